package parley

import (
	"math"
	"net/url"
	"strconv"
	"unicode/utf8"
)

// Appearance choices (C2).
const (
	PositionRight = "right"
	PositionLeft  = "left"

	FontSmall  = "small"
	FontMedium = "medium"
	FontLarge  = "large"

	// MaxLauncherLabelRunes bounds the launcher's label.
	MaxLauncherLabelRunes = 40
)

// ValidateAppearance checks an appearance as an admin saves it: an accent
// colour of exactly #rrggbb, a known position and font size (empty means the
// default), a launcher label of at most MaxLauncherLabelRunes, and an avatar
// that is empty or an absolute http(s) URL. It returns EINVALID naming the
// field.
func ValidateAppearance(a Appearance) error {
	if a.AccentColor != "" && !IsHexColor(a.AccentColor) {
		return Errorf(EINVALID, "appearance.accentColor must be #rrggbb")
	}
	switch a.Position {
	case "", PositionRight, PositionLeft:
	default:
		return Errorf(EINVALID, "appearance.position must be left or right")
	}
	switch a.FontSize {
	case "", FontSmall, FontMedium, FontLarge:
	default:
		return Errorf(EINVALID, "appearance.fontSize must be small, medium or large")
	}
	if !utf8.ValidString(a.LauncherLabel) || utf8.RuneCountInString(a.LauncherLabel) > MaxLauncherLabelRunes {
		return Errorf(EINVALID, "appearance.launcherLabel must be valid text of at most %d characters", MaxLauncherLabelRunes)
	}
	if a.AvatarURL != "" && !IsWebURL(a.AvatarURL) {
		return Errorf(EINVALID, "appearance.avatarUrl must be an absolute http or https URL")
	}
	return nil
}

// IsHexColor reports whether s is a colour of the form #rrggbb.
func IsHexColor(s string) bool {
	if len(s) != 7 || s[0] != '#' {
		return false
	}
	for i := 1; i < 7; i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// IsWebURL reports whether s is an absolute http or https URL with a host, of
// at most 2048 bytes.
func IsWebURL(s string) bool {
	if len(s) > 2048 {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil
}

// ContrastRatio returns the WCAG 2 contrast ratio of two #rrggbb colours,
// from 1 (same luminance) to 21 (black on white). It returns EINVALID if
// either is not #rrggbb.
func ContrastRatio(a, b string) (float64, error) {
	la, err := luminance(a)
	if err != nil {
		return 0, err
	}
	lb, err := luminance(b)
	if err != nil {
		return 0, err
	}
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05), nil
}

// luminance is the WCAG relative luminance of a #rrggbb colour.
func luminance(hex string) (float64, error) {
	if !IsHexColor(hex) {
		return 0, Errorf(EINVALID, "colour %q is not #rrggbb", hex)
	}
	var ch [3]float64
	for i := range ch {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		c := float64(v) / 255
		if c <= 0.04045 {
			ch[i] = c / 12.92
		} else {
			ch[i] = math.Pow((c+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*ch[0] + 0.7152*ch[1] + 0.0722*ch[2], nil
}
