package render

import (
	"github.com/fatih/color"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// Palette colours text for a terminal, or leaves it plain when Off is set
// by --color or NO_COLOR. It is the one set of colours of the diff, the
// report's table and the fix session, so a severity looks the same in each.
type Palette struct{ On bool }

// Color returns a color.Color of attrs that honours the palette's switch.
func (p Palette) Color(attrs ...color.Attribute) *color.Color {
	c := color.New(attrs...)
	if p.On {
		c.EnableColor()
	} else {
		c.DisableColor()
	}
	return c
}

// Paint returns text in attrs.
func (p Palette) Paint(text string, attrs ...color.Attribute) string {
	return p.Color(attrs...).Sprint(text)
}

// Severity returns text in the colour of severity s.
func (p Palette) Severity(s finding.Severity, text string) string {
	return p.Paint(text, severityColors(s)...)
}

func severityColors(s finding.Severity) []color.Attribute {
	switch s {
	case finding.Critical:
		return []color.Attribute{color.FgHiRed, color.Bold}
	case finding.High:
		return []color.Attribute{color.FgRed}
	case finding.Medium:
		return []color.Attribute{color.FgYellow}
	case finding.Low:
		return []color.Attribute{color.FgCyan}
	}
	return []color.Attribute{color.Faint}
}
