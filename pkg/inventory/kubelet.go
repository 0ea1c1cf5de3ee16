package inventory

import (
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// KubeletConfigs is not a resource: each node's kubelet configuration, read
// from the kubelet's /configz through the API server's node proxy
// (GET /api/v1/nodes/NAME/proxy/configz), one Kubelet per Node. It is read
// only when the audit is asked to (--kubelet, see OptIn): the proxy request
// needs get on nodes/proxy, which reaches the whole kubelet API.
const KubeletConfigs Kind = "kubelet-configz"

// Kubelet is what one node's kubelet showed of its configuration.
type Kubelet struct {
	Node           string `json:"node"`
	KubeletVersion string `json:"kubeletVersion,omitempty"`
	// Config is the configuration the kubelet runs with, as its /configz
	// serves it (defaults applied, flags merged); nil when it could not be read.
	Config *KubeletConfiguration `json:"-"`
	// Unread says why Config is nil: the API server forbids the proxy
	// request, the kubelet refused the API server, or it did not answer.
	Unread string `json:"unread,omitempty"`
}

// ParseConfigz decodes the body of a kubelet's /configz, the configuration
// under the name it is registered with: {"kubeletconfig": {...}}.
func ParseConfigz(body []byte) (*KubeletConfiguration, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("decode /configz: %w", err)
	}
	raw, ok := doc["kubeletconfig"]
	if !ok {
		return nil, fmt.Errorf("decode /configz: no kubeletconfig in it")
	}
	var c KubeletConfiguration
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("decode /configz kubeletconfig: %w", err)
	}
	return &c, nil
}

// KubeletConfiguration holds the fields of kubelet.config.k8s.io/v1beta1
// KubeletConfiguration that the checks read, with its JSON names and Go
// types, so a /configz body decodes into it as into the kubelet's own type.
// That type (k8s.io/kubelet/config/v1beta1) would link component-base's
// logging, metrics and flag packages (cobra among them) into the inventory
// and everything above it; kubelet_test.go holds this copy to it field by field.
type KubeletConfiguration struct {
	Authentication                 KubeletAuthentication `json:"authentication"`
	Authorization                  KubeletAuthorization  `json:"authorization"`
	ReadOnlyPort                   int32                 `json:"readOnlyPort,omitempty"`
	TLSCertFile                    string                `json:"tlsCertFile,omitempty"`
	TLSPrivateKeyFile              string                `json:"tlsPrivateKeyFile,omitempty"`
	TLSCipherSuites                []string              `json:"tlsCipherSuites,omitempty"`
	TLSMinVersion                  string                `json:"tlsMinVersion,omitempty"`
	RotateCertificates             bool                  `json:"rotateCertificates,omitempty"`
	ServerTLSBootstrap             bool                  `json:"serverTLSBootstrap,omitempty"`
	EventRecordQPS                 *int32                `json:"eventRecordQPS,omitempty"`
	StreamingConnectionIdleTimeout metav1.Duration       `json:"streamingConnectionIdleTimeout,omitempty"`
	PodPidsLimit                   *int64                `json:"podPidsLimit,omitempty"`
	ProtectKernelDefaults          bool                  `json:"protectKernelDefaults,omitempty"`
	MakeIPTablesUtilChains         *bool                 `json:"makeIPTablesUtilChains,omitempty"`
	FeatureGates                   map[string]bool       `json:"featureGates,omitempty"`
	SeccompDefault                 *bool                 `json:"seccompDefault,omitempty"`
}

// KubeletAuthentication is how the kubelet authenticates requests to its API.
type KubeletAuthentication struct {
	X509      KubeletX509Authentication      `json:"x509"`
	Webhook   KubeletWebhookAuthentication   `json:"webhook"`
	Anonymous KubeletAnonymousAuthentication `json:"anonymous"`
}

// KubeletX509Authentication is client certificate authentication.
type KubeletX509Authentication struct {
	ClientCAFile string `json:"clientCAFile,omitempty"`
}

// KubeletWebhookAuthentication is bearer token authentication by TokenReview.
type KubeletWebhookAuthentication struct {
	Enabled *bool `json:"enabled,omitempty"`
}

// KubeletAnonymousAuthentication says whether requests without credentials are served.
type KubeletAnonymousAuthentication struct {
	Enabled *bool `json:"enabled,omitempty"`
}

// KubeletAuthorization is how the kubelet authorizes requests to its API:
// AlwaysAllow, or Webhook (a SubjectAccessReview per request).
type KubeletAuthorization struct {
	Mode string `json:"mode,omitempty"`
}

// The kubelet's authorization modes.
const (
	KubeletAuthorizationAlwaysAllow = "AlwaysAllow"
	KubeletAuthorizationWebhook     = "Webhook"
)

// optIns names the flag without which an audit does not read a kind, and
// what reading it costs.
var optIns = map[Kind][2]string{
	KubeletConfigs: {"kubelet", "it asks each node's kubelet for its configuration (/configz) through the API server, which needs get on nodes/proxy"},
}

// OptIn returns the audit flag (without dashes) that asks for kind k, or ""
// when an audit reads k whenever a selected check needs it.
func (k Kind) OptIn() string { return optIns[k][0] }

// NotAskedFor is why an opt-in kind was not read: the checks that need it
// are unknown with this reason, neither skipped nor passed.
func NotAskedFor(k Kind) string {
	return fmt.Sprintf("not read without --%s (%s)", k.OptIn(), optIns[k][1])
}

// Lists returns the API resources a loader lists to read kind k, so that get
// and list on them let it be read: the kind's own resource, the nodes for the
// kubelet configurations (whose proxy requests need get on nodes/proxy as
// well, which no read-only role should hold: see KubeletConfigs), none for a probe.
func (k Kind) Lists() []schema.GroupResource {
	switch {
	case k == KubeletConfigs:
		return []schema.GroupResource{{Resource: string(Nodes)}}
	case !k.IsResource():
		return nil
	}
	return k.APIResources()
}
