package inventory

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
)

// jsonField finds the field of struct type t with the JSON name.
func jsonField(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if n, _, _ := strings.Cut(f.Tag.Get("json"), ","); n == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// KubeletConfiguration is a copy of the part of the kubelet's own type the
// checks read: every field has the same JSON name, options and Go kind there.
func TestKubeletConfigurationMirrorsTheKubeletsType(t *testing.T) {
	duration := reflect.TypeOf(metav1.Duration{})
	var walk func(path string, ours, theirs reflect.Type)
	walk = func(path string, ours, theirs reflect.Type) {
		for i := 0; i < ours.NumField(); i++ {
			f := ours.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			where := path + name
			tf, ok := jsonField(theirs, name)
			if !ok {
				t.Errorf("%s: no such field in kubelet.config.k8s.io/v1beta1 KubeletConfiguration", where)
				continue
			}
			if f.Tag.Get("json") != tf.Tag.Get("json") {
				t.Errorf("%s: json tag %q, the kubelet's is %q", where, f.Tag.Get("json"), tf.Tag.Get("json"))
			}
			o, k := f.Type, tf.Type
			switch {
			case o == duration || k == duration:
				if o != k {
					t.Errorf("%s: %s, the kubelet's is %s", where, o, k)
				}
			case o.Kind() == reflect.Struct && k.Kind() == reflect.Struct:
				walk(where+".", o, k)
			case o.Kind() != k.Kind():
				t.Errorf("%s: %s, the kubelet's is %s", where, o, k)
			case o.Kind() == reflect.Pointer || o.Kind() == reflect.Slice:
				if o.Elem().Kind() != k.Elem().Kind() {
					t.Errorf("%s: %s, the kubelet's is %s", where, o, k)
				}
			case o.Kind() == reflect.Map:
				if o.Key().Kind() != k.Key().Kind() || o.Elem().Kind() != k.Elem().Kind() {
					t.Errorf("%s: %s, the kubelet's is %s", where, o, k)
				}
			}
		}
	}
	walk("", reflect.TypeOf(KubeletConfiguration{}), reflect.TypeOf(kubeletconfigv1beta1.KubeletConfiguration{}))
}

// What the kubelet serves from its own type decodes into the copy with every value.
func TestParseConfigzOfTheKubeletsType(t *testing.T) {
	yes, no := true, false
	qps, pids := int32(7), int64(4096)
	c := kubeletconfigv1beta1.KubeletConfiguration{
		TypeMeta:     metav1.TypeMeta{APIVersion: "kubelet.config.k8s.io/v1beta1", Kind: "KubeletConfiguration"},
		ReadOnlyPort: 10255, TLSCertFile: "/c.crt", TLSPrivateKeyFile: "/c.key", TLSMinVersion: "VersionTLS12",
		TLSCipherSuites: []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}, RotateCertificates: true, ServerTLSBootstrap: true,
		EventRecordQPS: &qps, StreamingConnectionIdleTimeout: metav1.Duration{Duration: 5 * time.Minute}, PodPidsLimit: &pids,
		ProtectKernelDefaults: true, MakeIPTablesUtilChains: &no, FeatureGates: map[string]bool{"RotateKubeletServerCertificate": false},
		SeccompDefault: &yes,
		Authentication: kubeletconfigv1beta1.KubeletAuthentication{
			X509:      kubeletconfigv1beta1.KubeletX509Authentication{ClientCAFile: "/ca.crt"},
			Webhook:   kubeletconfigv1beta1.KubeletWebhookAuthentication{Enabled: &yes},
			Anonymous: kubeletconfigv1beta1.KubeletAnonymousAuthentication{Enabled: &no},
		},
		Authorization: kubeletconfigv1beta1.KubeletAuthorization{Mode: kubeletconfigv1beta1.KubeletAuthorizationModeWebhook},
	}
	body, err := json.Marshal(map[string]any{"kubeletconfig": c})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseConfigz(body)
	if err != nil {
		t.Fatal(err)
	}
	want := KubeletConfiguration{
		ReadOnlyPort: 10255, TLSCertFile: "/c.crt", TLSPrivateKeyFile: "/c.key", TLSMinVersion: "VersionTLS12",
		TLSCipherSuites: []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}, RotateCertificates: true, ServerTLSBootstrap: true,
		EventRecordQPS: &qps, StreamingConnectionIdleTimeout: metav1.Duration{Duration: 5 * time.Minute}, PodPidsLimit: &pids,
		ProtectKernelDefaults: true, MakeIPTablesUtilChains: &no, FeatureGates: map[string]bool{"RotateKubeletServerCertificate": false},
		SeccompDefault: &yes,
		Authentication: KubeletAuthentication{X509: KubeletX509Authentication{ClientCAFile: "/ca.crt"},
			Webhook: KubeletWebhookAuthentication{Enabled: &yes}, Anonymous: KubeletAnonymousAuthentication{Enabled: &no}},
		Authorization: KubeletAuthorization{Mode: KubeletAuthorizationWebhook},
	}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("decoded\n  %+v\nwant\n  %+v", *got, want)
	}
}

func TestParseConfigzRejectsOtherBodies(t *testing.T) {
	for body, want := range map[string]string{
		`{"componentconfig": {}}`:          "no kubeletconfig in it",
		`Forbidden (user=system:anonymous`: "decode /configz",
		`{"kubeletconfig": []}`:            "decode /configz kubeletconfig",
	} {
		if _, err := ParseConfigz([]byte(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", body, err, want)
		}
	}
}
