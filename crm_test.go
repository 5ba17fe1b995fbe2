package parley_test

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

func TestRecordValidate(t *testing.T) {
	long := strings.Repeat("a", parley.MaxNameBytes+1)
	tests := []struct {
		name    string
		r       parley.Record
		wantErr string // substring of the message; "" means valid
	}{
		{"ticket", parley.Record{Kind: "ticket", Name: "Refund", Stage: "new"}, ""},
		{"ticket waiting", parley.Record{Kind: "ticket", Name: "Refund", Stage: "waiting"}, ""},
		{"deal with amount", parley.Record{Kind: "deal", Name: "Pro plan", Stage: "won", Amount: "1200.50"}, ""},
		{"deal without amount", parley.Record{Kind: "deal", Name: "Pro plan", Stage: "qualified"}, ""},
		{"deal amount limits", parley.Record{Kind: "deal", Name: "Big", Stage: "contract", Amount: "999999999999999.9999"}, ""},
		{"unknown kind", parley.Record{Kind: "company", Name: "x", Stage: "new"}, `kind must be "ticket" or "deal"`},
		{"no kind", parley.Record{Name: "x", Stage: "new"}, "kind must be"},
		{"no name", parley.Record{Kind: "ticket", Stage: "new"}, "name is required"},
		{"long name", parley.Record{Kind: "ticket", Name: long, Stage: "new"}, "name is longer than 256"},
		{"padded name", parley.Record{Kind: "ticket", Name: " x", Stage: "new"}, "leading or trailing space"},
		{"newline in name", parley.Record{Kind: "ticket", Name: "a\nb", Stage: "new"}, "control character U+000A"},
		{"bad utf-8 name", parley.Record{Kind: "ticket", Name: "\xff", Stage: "new"}, "UTF-8"},
		{"deal stage on ticket", parley.Record{Kind: "ticket", Name: "x", Stage: "won"}, "stage of a ticket must be one of new, waiting, closed"},
		{"ticket stage on deal", parley.Record{Kind: "deal", Name: "x", Stage: "new"}, "stage of a deal must be one of appointment"},
		{"no stage", parley.Record{Kind: "deal", Name: "x"}, "stage of a deal"},
		{"stage case", parley.Record{Kind: "ticket", Name: "x", Stage: "New"}, "stage of a ticket"},
		{"amount on ticket", parley.Record{Kind: "ticket", Name: "x", Stage: "new", Amount: "5"}, "only deals have an amount"},
		{"negative amount", parley.Record{Kind: "deal", Name: "x", Stage: "won", Amount: "-5"}, "decimal number"},
		{"amount with comma", parley.Record{Kind: "deal", Name: "x", Stage: "won", Amount: "1,200"}, "decimal number"},
		{"amount exponent", parley.Record{Kind: "deal", Name: "x", Stage: "won", Amount: "1e5"}, "decimal number"},
		{"amount trailing point", parley.Record{Kind: "deal", Name: "x", Stage: "won", Amount: "5."}, "decimal number"},
		{"amount leading point", parley.Record{Kind: "deal", Name: "x", Stage: "won", Amount: ".5"}, "decimal number"},
		{"amount too long", parley.Record{Kind: "deal", Name: "x", Stage: "won", Amount: strings.Repeat("9", 16)}, "at most 15 digits"},
		{"amount too precise", parley.Record{Kind: "deal", Name: "x", Stage: "won", Amount: "1.23456"}, "4 after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkCRMError(t, tt.r.Validate(), tt.wantErr)
		})
	}
}

func TestEngagementValidate(t *testing.T) {
	tests := []struct {
		name    string
		e       parley.Engagement
		wantErr string
	}{
		{"call", parley.Engagement{Kind: "call", Body: "Called about the invoice."}, ""},
		{"email", parley.Engagement{Kind: "email", Body: "Sent the quote.\nTwo lines."}, ""},
		{"note", parley.Engagement{Kind: "note", Body: "VIP"}, ""},
		{"unknown kind", parley.Engagement{Kind: "meeting", Body: "x"}, `kind must be "call", "email" or "note"`},
		{"empty body", parley.Engagement{Kind: "note", Body: "  "}, "body: text is empty"},
		{"control char", parley.Engagement{Kind: "note", Body: "a\x00"}, "body: text contains control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkCRMError(t, tt.e.Validate(), tt.wantErr)
		})
	}
	big := parley.Engagement{Kind: "note", Body: strings.Repeat("a", parley.MaxTextBytes+1)}
	if got := parley.ErrorCode(big.Validate()); got != parley.ETOOLARGE {
		t.Errorf("code=%q, want %q", got, parley.ETOOLARGE)
	}
}

func TestContactValidate(t *testing.T) {
	tests := []struct {
		name    string
		c       parley.Contact
		wantErr string
	}{
		{"empty", parley.Contact{}, ""},
		{"full", parley.Contact{FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com"}, ""},
		{"markup is text", parley.Contact{FirstName: "<img src=x onerror=alert(1)>"}, ""},
		{"unicode", parley.Contact{FirstName: "Zoë", LastName: "Müller-SS"}, ""},
		{"padded first", parley.Contact{FirstName: "Ada "}, "firstName has leading or trailing space"},
		{"tab in last", parley.Contact{LastName: "a\tb"}, "lastName contains control character U+0009"},
		{"long first", parley.Contact{FirstName: strings.Repeat("x", 257)}, "firstName is longer than 256"},
		{"email with name", parley.Contact{Email: "Ada <ada@example.com>"}, "is not an email address"},
		{"email no at", parley.Contact{Email: "ada.example.com"}, "is not an email address"},
		{"email no dot", parley.Contact{Email: "ada@localhost"}, "is not an email address"},
		{"email spaces", parley.Contact{Email: " ada@example.com"}, "is not an email address"},
		{"email long", parley.Contact{Email: strings.Repeat("a", 250) + "@example.com"}, "email is longer than 256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkCRMError(t, tt.c.Validate(), tt.wantErr)
		})
	}
}

func TestRecordStages(t *testing.T) {
	if got := strings.Join(parley.RecordStages("ticket"), ","); got != "new,waiting,closed" {
		t.Errorf("ticket stages=%s", got)
	}
	if got := strings.Join(parley.RecordStages("deal"), ","); got != "appointment,qualified,presentation,decision,contract,won,lost" {
		t.Errorf("deal stages=%s", got)
	}
	if got := parley.RecordStages("company"); got != nil {
		t.Errorf("company stages=%v, want nil", got)
	}
	s := parley.RecordStages("ticket")
	s[0] = "changed"
	if parley.RecordStages("ticket")[0] != "new" {
		t.Error("RecordStages shares its slice")
	}
}

func checkCRMError(t *testing.T, err error, wantErr string) {
	t.Helper()
	if wantErr == "" {
		if err != nil {
			t.Fatalf("err=%v, want nil", err)
		}
		return
	}
	if got := parley.ErrorCode(err); got != parley.EINVALID {
		t.Fatalf("code=%q (err %v), want %q", got, err, parley.EINVALID)
	}
	if got := parley.ErrorMessage(err); !strings.Contains(got, wantErr) {
		t.Errorf("message=%q, want it to contain %q", got, wantErr)
	}
}
