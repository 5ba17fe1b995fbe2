package server_test

import (
	"testing"
)

// TestNewWidgetsSendTranscripts: a widget created through the API sends
// transcripts unless its body switches them off (R2); a widget stored with
// them off keeps them off.
func TestNewWidgetsSendTranscripts(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	inbox := idStr(e.inbox.ID)

	w := decodeWidget(t, admin.want(201, "POST", "/api/v1/widgets", map[string]any{"name": "Pricing chat", "inboxId": inbox}))
	if !w.Options.Transcripts {
		t.Errorf("a new widget has transcripts off: %+v", w.Options)
	}
	off := decodeWidget(t, admin.want(201, "POST", "/api/v1/widgets", map[string]any{"name": "Quiet chat", "inboxId": inbox, "options": map[string]any{"transcripts": false}}))
	if off.Options.Transcripts {
		t.Errorf("a widget created with transcripts off has them on")
	}
	// Other changes leave the stored switch as it is.
	off = decodeWidget(t, admin.want(200, "PATCH", "/api/v1/widgets/"+off.ID, map[string]any{"name": "Still quiet"}))
	if off.Options.Transcripts {
		t.Errorf("a patch switched transcripts on")
	}
	if got := decodeWidget(t, admin.want(200, "GET", "/api/v1/widgets/"+off.ID, nil)); got.Options.Transcripts || got.Name != "Still quiet" {
		t.Errorf("stored widget %+v", got)
	}
}
