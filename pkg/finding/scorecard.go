package finding

// The status of a control in a scorecard.
const (
	ControlPass    = "pass"    // every check that evidences it ran and found nothing
	ControlFail    = "fail"    // a check that evidences it found something
	ControlUnknown = "unknown" // not visible through the API, or a check that evidences it did not run or could not see
	ControlManual  = "manual"  // needs a person
)

// Scorecard is a framework's controls judged by the checks' results. An
// unknown control is never a pass: it counts against the score like a failure.
type Scorecard struct {
	Framework string          `json:"framework"` // cis, nsa, nist-800-53, nist-800-190, nist-800-218
	Catalogue string          `json:"catalogue"` // cis-1.12, nsa-1.2, ...
	Title     string          `json:"title"`
	Summary   ControlCounts   `json:"summary"`
	Sections  []SectionScore  `json:"sections"`
	Results   []ControlResult `json:"results"`
}

// ControlCounts counts controls by status. Score is pass / (pass + fail + unknown)
// in percent, -1 when nothing could be judged (every control manual).
type ControlCounts struct {
	Pass    int `json:"pass"`
	Fail    int `json:"fail"`
	Unknown int `json:"unknown"`
	Manual  int `json:"manual"`
	Score   int `json:"score"`
}

// Add counts one control of the status.
func (c *ControlCounts) Add(status string) {
	switch status {
	case ControlPass:
		c.Pass++
	case ControlFail:
		c.Fail++
	case ControlUnknown:
		c.Unknown++
	default:
		c.Manual++
	}
	c.Score = -1
	if judged := c.Pass + c.Fail + c.Unknown; judged > 0 {
		c.Score = c.Pass * 100 / judged
	}
}

// SectionScore is one section of the framework (CIS 1.2 API server, ...).
type SectionScore struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	ControlCounts
}

// ControlResult is one control's status and the evidence for it.
type ControlResult struct {
	ID         Control `json:"id"` // CIS-1.2.1
	Section    string  `json:"section"`
	Title      string  `json:"title"`
	Assessment string  `json:"assessment"` // automated or manual, as the framework says
	Level      int     `json:"level,omitempty"`
	Status     string  `json:"status"`
	// Reason says why a control is unknown or manual.
	Reason   string            `json:"reason,omitempty"`
	Evidence []ControlEvidence `json:"evidence,omitempty"`
}

// ControlEvidence is one check's part in a control's status.
type ControlEvidence struct {
	Check  string `json:"check"`
	Facet  string `json:"facet,omitempty"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	// Findings are the failing findings (accepted ones are counted apart).
	Findings []ControlFinding `json:"findings,omitempty"`
	Accepted int              `json:"accepted,omitempty"`
}

// ControlFinding is a finding as a control's evidence shows it.
type ControlFinding struct {
	Severity Severity `json:"severity"`
	Resource string   `json:"resource"`
	Message  string   `json:"message"`
}
