package store

import (
	"fmt"
	"slices"
	"testing"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

func TestKnowledgeLinks(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, nil)
	var ids []uint64
	for _, title := range []string{"returns", "Billing", "account"} {
		l := &parley.KnowledgeLink{Title: title, URL: "https://help.example.com/" + title, Authored: parley.Authored{CreatedBy: 1}}
		if err := db.CreateKnowledgeLink(ctx, l); err != nil {
			t.Fatal(err)
		}
		if l.ID == 0 || l.CreatedAt.IsZero() || !l.UpdatedAt.Equal(l.CreatedAt) {
			t.Errorf("created %+v", l)
		}
		ids = append(ids, l.ID)
	}
	all, err := db.KnowledgeLinks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, l := range all {
		titles = append(titles, l.Title)
	}
	if want := []string{"account", "Billing", "returns"}; !slices.Equal(titles, want) {
		t.Errorf("titles=%q, want %q (by title, any case)", titles, want)
	}
	got, err := db.UpdateKnowledgeLink(ctx, ids[0], func(l *parley.KnowledgeLink) error {
		l.Title, l.CreatedBy = "Returns and refunds", 9 // CreatedBy is fixed
		return nil
	})
	if err != nil || got.Title != "Returns and refunds" || got.CreatedBy != 1 {
		t.Errorf("updated %+v, %v", got, err)
	}
	wantCode(t, db.DeleteKnowledgeLink(ctx, ids[1]), "")
	wantCode(t, db.DeleteKnowledgeLink(ctx, ids[1]), parley.ENOTFOUND)
	_, err = db.KnowledgeLink(ctx, ids[1])
	wantCode(t, err, parley.ENOTFOUND)

	// A full library takes no more.
	err = db.update(ctx, func(tx *bolt.Tx) error {
		for i := len(ids) - 1; i < parley.MaxKnowledgeLinks; i++ {
			l := &parley.KnowledgeLink{Title: fmt.Sprint("link ", i), URL: "https://help.example.com/"}
			if err := knowledgeLinkTable().insert(tx, l, db.utcNow()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.CreateKnowledgeLink(ctx, &parley.KnowledgeLink{Title: "one more", URL: "https://help.example.com/"}), parley.ECONFLICT)
	if all, _ := db.KnowledgeLinks(ctx); len(all) != parley.MaxKnowledgeLinks {
		t.Errorf("%d links, want %d", len(all), parley.MaxKnowledgeLinks)
	}
}

func TestMeetingLinks(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, nil)
	u := &parley.User{Email: "bo@example.com", Name: "Bo", Role: parley.RoleAgent}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got, err := db.MeetingLink(ctx, u.ID); err != nil || got != "" {
		t.Errorf("before: %q, %v", got, err)
	}
	wantCode(t, db.SetMeetingLink(ctx, u.ID, "https://meet.example.com/bo"), "")
	if got, err := db.MeetingLink(ctx, u.ID); err != nil || got != "https://meet.example.com/bo" {
		t.Errorf("after: %q, %v", got, err)
	}
	wantCode(t, db.SetMeetingLink(ctx, u.ID, ""), "")
	if got, _ := db.MeetingLink(ctx, u.ID); got != "" {
		t.Errorf("after removing: %q", got)
	}
	wantCode(t, db.SetMeetingLink(ctx, 999, "https://meet.example.com/x"), parley.ENOTFOUND)
}
