package parley

import (
	"math"
	"testing"
)

func TestValidateAppearance(t *testing.T) {
	for _, tt := range []struct {
		name string
		a    Appearance
		ok   bool
	}{
		{"zero value", Appearance{}, true},
		{"full", Appearance{AccentColor: "#B91c1c", Position: "left", FontSize: "large", LauncherLabel: "Fragen? Chat mit uns", AvatarURL: "https://cdn.example/a.png"}, true},
		{"short hex", Appearance{AccentColor: "#fff"}, false},
		{"named colour", Appearance{AccentColor: "red"}, false},
		{"css injection", Appearance{AccentColor: "#000000;}"}, false},
		{"bad position", Appearance{Position: "top"}, false},
		{"bad font size", Appearance{FontSize: "18px"}, false},
		{"long label", Appearance{LauncherLabel: "0123456789012345678901234567890123456789x"}, false},
		{"javascript avatar", Appearance{AvatarURL: "javascript:alert(1)"}, false},
		{"relative avatar", Appearance{AvatarURL: "/a.png"}, false},
		{"avatar with credentials", Appearance{AvatarURL: "https://u:p@cdn.example/a.png"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateAppearance(tt.a)
			if (err == nil) != tt.ok {
				t.Fatalf("err=%v, want ok=%v", err, tt.ok)
			}
			if err != nil && ErrorCode(err) != EINVALID {
				t.Errorf("code=%s, want %s", ErrorCode(err), EINVALID)
			}
		})
	}
}

func TestContrastRatio(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want float64
	}{
		{"#000000", "#ffffff", 21},
		{"#ffffff", "#000000", 21},
		{"#777777", "#777777", 1},
		{"#2563eb", "#ffffff", 5.17},
		{"#767676", "#ffffff", 4.54},
		{"#fde047", "#ffffff", 1.32},
	} {
		got, err := ContrastRatio(tt.a, tt.b)
		if err != nil {
			t.Fatalf("ContrastRatio(%s, %s): %v", tt.a, tt.b, err)
		}
		if math.Abs(got-tt.want) > 0.01 {
			t.Errorf("ContrastRatio(%s, %s)=%.3f, want %.2f", tt.a, tt.b, got, tt.want)
		}
	}
	if _, err := ContrastRatio("blue", "#ffffff"); ErrorCode(err) != EINVALID {
		t.Errorf("err=%v, want EINVALID", err)
	}
}
