package parley

import (
	"slices"
	"strings"
	"testing"
)

func TestCopies(t *testing.T) {
	cc, bcc, err := Copies(
		[]Address{{Name: " Bob ", Email: "Bob@Customer.example"}, {Email: "bob@customer.example"}, {Email: "ann@customer.example"}},
		[]Address{{Email: "BOB@customer.example"}, {Email: "eve@audit.example"}}, "ANN@customer.example")
	if err != nil {
		t.Fatal(err)
	}
	if want := []Address{{Name: "Bob", Email: "Bob@customer.example"}}; !slices.Equal(cc, want) {
		t.Errorf("cc=%v, want %v", cc, want)
	}
	if want := []Address{{Email: "eve@audit.example"}}; !slices.Equal(bcc, want) {
		t.Errorf("bcc=%v, want %v", bcc, want)
	}
	tests := []struct {
		name    string
		cc, bcc []Address
		want    string
	}{
		{"too many", make([]Address, 15), make([]Address, 6), "at most 20"},
		{"line feed in the address", []Address{{Email: "a@x.example\nBcc: b@y.example"}}, nil, "control characters"},
		{"carriage return in the name", nil, []Address{{Name: "A\rB", Email: "a@x.example"}}, "bcc[0]"},
		{"two addresses", []Address{{Email: "a@x.example, b@y.example"}}, nil, "cc[0]"},
		{"angle brackets", []Address{{Email: "A <a@x.example>"}}, nil, "not one plain"},
		{"no domain", []Address{{Email: "a@"}}, nil, "cc[0]"},
		{"long name", []Address{{Name: strings.Repeat("n", 300), Email: "a@x.example"}}, nil, "longer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Copies(tc.cc, tc.bcc)
			if ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), tc.want) {
				t.Errorf("err=%v, want EINVALID naming %q", err, tc.want)
			}
		})
	}
}

func TestReplyCc(t *testing.T) {
	rs := []Recipient{
		{Field: RecipientTo, Email: "support@parley.test"},
		{Field: RecipientTo, Name: "Dan", Email: "dan@customer.example"},
		{Field: RecipientCc, Email: "Ann@customer.example"},
		{Field: RecipientCc, Email: "mailer-daemon@customer.example"},
		{Field: RecipientCc, Email: "no-reply+7@customer.example"},
		{Field: RecipientCc, Email: "DAN@customer.example"},
		{Field: RecipientCc, Email: "sales@customer.example"},
		{Field: RecipientBcc, Email: "hidden@customer.example"},
	}
	own := func(a string) bool { return strings.EqualFold(a, "support@parley.test") }
	got := ReplyCc(rs, "ann@customer.example", own)
	if want := []Address{{Name: "Dan", Email: "dan@customer.example"}, {Email: "sales@customer.example"}}; !slices.Equal(got, want) {
		t.Errorf("ReplyCc=%v, want %v", got, want)
	}
	var many []Recipient
	for range 60 {
		many = append(many, Recipient{Field: RecipientCc, Email: "x" + strings.Repeat("y", len(many)) + "@x.example"})
	}
	if got := ReplyCc(many, "", nil); len(got) != MaxCopies {
		t.Errorf("ReplyCc kept %d, want %d", len(got), MaxCopies)
	}
}
