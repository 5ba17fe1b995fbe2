package store

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

func TestFoldWord(t *testing.T) {
	for _, tt := range []struct {
		name, in  string
		term, alt string
	}{
		{"ascii", "Order", "order", ""},
		{"umlaut", "Müller", "muller", "mueller"},
		{"capital umlaut", "MÜLLER", "muller", "mueller"},
		{"several umlauts", "Größenänderung", "grossenanderung", "groessenaenderung"},
		{"decomposed umlaut", "Mu\u0308ller", "muller", "mueller"},
		{"sharp s", "Straße", "strasse", ""},
		{"capital sharp s", "STRAẞE", "strasse", ""},
		{"acute", "José", "jose", ""},
		{"decomposed acute", "Jose\u0301", "jose", ""},
		{"French", "Œuvre", "oeuvre", ""},
		{"Scandinavian", "Ærø", "aero", ""},
		{"Polish", "Łódź", "lodz", ""},
		{"Czech", "Dvořák", "dvorak", ""},
		{"Turkish dotted capital I", "İstanbul", "istanbul", ""},
		{"Turkish dotless i", "ılık", "ilik", ""},
		{"Icelandic", "Þór", "thor", ""},
		{"Vietnamese", "Nguyễn", "nguyen", ""},
		{"ligature", "ﬁle", "file", ""},
		{"digits", "1042", "1042", ""},
		{"Cyrillic keeps its marks", "Йогурт", "йогурт", ""},
		{"Greek lower-cased only", "Ωμέγα", "ωμέγα", ""},
		{"Japanese voiced mark kept", "がか", "がか", ""},
		{"Devanagari vowel signs kept", "हिंदी", "हिंदी", ""},
		{"mark after a non-Latin letter kept", "и\u0306", "и\u0306", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			term, alt := foldWord(tt.in)
			if term != tt.term || alt != tt.alt {
				t.Errorf("foldWord(%q)=%q, %q; want %q, %q", tt.in, term, alt, tt.term, tt.alt)
			}
		})
	}
	t.Run("cut after folding", func(t *testing.T) {
		term, alt := foldWord(strings.Repeat("ü", 40)) // 80 bytes; folded 40, spelled out 80
		if term != strings.Repeat("u", 40) || alt != strings.Repeat("ue", 32) {
			t.Errorf("foldWord of 40 ü=%q, %q", term, alt)
		}
	})
	t.Run("table folds lower-case Latin letters to ASCII", func(t *testing.T) {
		for r, f := range foldTable {
			if !unicode.IsLower(r) || f == "" {
				t.Errorf("%q folds to %q: the table holds lower-case letters only", r, f)
			}
			for i := 0; i < len(f); i++ {
				if f[i] < 'a' || f[i] > 'z' {
					t.Errorf("%q folds to %q, not to ASCII letters", r, f)
				}
			}
		}
	})
}

func TestIndexTerms(t *testing.T) {
	got := indexTerms("Frau Müller und Herr Mueller")
	want := []string{"frau", "muller", "mueller", "und", "herr"}
	if !slices.Equal(got, want) {
		t.Errorf("indexTerms=%q, want %q", got, want)
	}
	if got := terms("Frau Müller"); !slices.Equal(got, []string{"frau", "muller"}) {
		t.Errorf("terms=%q: a query looks for the folded word only", got)
	}
	if got := foldText("Grüße, Frau MÜLLER!"); got != "grusse, frau muller!" {
		t.Errorf("foldText=%q", got)
	}
}

// TestSearch_Folding: accents and case do not matter in contact names,
// emails, subjects and message text, and highlights mark the text as
// written.
func TestSearch_Folding(t *testing.T) {
	clk := newClock()
	db := MustOpen(t, &Options{NoSync: true, Now: clk.Now, IndexInterval: time.Hour})
	ctx := t.Context()
	f := &searchFixture{db: db, clk: clk, threads: map[string]*parley.Thread{}}
	contact := func(first, last, email string) uint64 {
		c := &parley.Contact{FirstName: first, LastName: last, Email: email}
		if err := db.CreateContact(ctx, c); err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	f.start(t, "muller", 1, parley.ChannelChat, contact("Jürgen", "Müller", "j.mueller@example.de"), "", "Hallo, meine Bestellung?")
	f.start(t, "mueller", 1, parley.ChannelChat, contact("Hans", "Mueller", ""), "", "Guten Tag")
	f.start(t, "jose", 1, parley.ChannelEmail, contact("José", "García", "jose@ejemplo.es"), "Señal débil en la estación", "¿Pueden ayudarme?")
	f.start(t, "strasse", 1, parley.ChannelChat, contact("", "", ""), "", "Lieferung an die Hauptstraße 5, bitte")
	f.start(t, "cafe", 1, parley.ChannelChat, contact("", "", ""), "", "Le cafe\u0301 est froid")
	f.wait(t)

	for _, tt := range []struct {
		name, text  string
		want        []string
		field       string
		highlighted []string
	}{
		{"name without umlaut", "muller", []string{"muller"}, parley.SearchFieldContact, []string{"Müller"}},
		{"name spelled out", "mueller", []string{"mueller", "muller"}, parley.SearchFieldContact, []string{"Mueller"}},
		{"name as written", "Müller", []string{"muller"}, parley.SearchFieldContact, []string{"Müller"}},
		{"name in capitals", "MÜLLER", []string{"muller"}, parley.SearchFieldContact, []string{"Müller"}},
		{"first name", "jurgen", []string{"muller"}, parley.SearchFieldContact, []string{"Jürgen"}},
		{"first name spelled out, prefix", "juerg", []string{"muller"}, parley.SearchFieldContact, []string{"Jürgen"}},
		{"email", "j.mueller@example.de", []string{"muller"}, parley.SearchFieldContact, []string{"Müller", "j", "mueller", "example", "de"}},
		{"accented name", "garcia", []string{"jose"}, parley.SearchFieldContact, []string{"García"}},
		{"unaccented query for an accented subject", "senal debil", []string{"jose"}, parley.SearchFieldSubject, []string{"Señal", "débil"}},
		{"accented query", "estación", []string{"jose"}, parley.SearchFieldSubject, []string{"estación"}},
		{"sharp s in a message", "hauptstrasse", []string{"strasse"}, parley.SearchFieldMessage, []string{"Hauptstraße"}},
		{"sharp s as typed", "Hauptstraße", []string{"strasse"}, parley.SearchFieldMessage, []string{"Hauptstraße"}},
		{"decomposed accent", "café", []string{"cafe"}, parley.SearchFieldMessage, []string{"cafe\u0301"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hits, _, err := db.Search(ctx, parley.SearchQuery{Text: tt.text})
			if err != nil {
				t.Fatal(err)
			}
			if got := f.names(hits); !slices.Equal(got, tt.want) {
				t.Fatalf("hits=%v, want %v", got, tt.want)
			}
			h := hits[0]
			if h.Field != tt.field {
				t.Errorf("field=%q, want %q", h.Field, tt.field)
			}
			var got []string
			r := []rune(h.Snippet)
			for _, hl := range h.Highlights {
				got = append(got, string(r[hl[0]:hl[1]]))
			}
			if !slices.Equal(got, tt.highlighted) {
				t.Errorf("snippet %q: highlighted %q, want %q", h.Snippet, got, tt.highlighted)
			}
		})
	}
}

// TestSearch_FoldingUpgrade: an index written by a Parley that did not fold
// (version 1, "müller" stored as it is) is rebuilt at Open, and then finds
// "muller".
func TestSearch_FoldingUpgrade(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	db := MustOpenDir(t, dir, &Options{NoSync: true})
	c := &parley.Contact{LastName: "Müller"}
	if err := db.CreateContact(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AppendMessage(ctx, &parley.Message{Type: parley.TypeMessage, Text: "Grüße", SenderID: c.ActorID()},
		parley.AppendOptions{NewThread: &parley.Thread{InboxID: 1, ChannelID: parley.ChannelEmail, ContactID: c.ID}}); err != nil {
		t.Fatal(err)
	}
	if err := db.WaitIndexed(ctx, 0); err != nil {
		t.Fatal(err)
	}
	// Make it the index of version 1: unfolded terms, the old version.
	err := db.update(ctx, func(tx *bolt.Tx) error {
		if err := resetSearch(tx); err != nil {
			return err
		}
		iw := newIndexWriter(tx)
		for _, term := range []string{"müller", "grüße"} {
			if err := iw.add(1, term, inFields, 0); err != nil {
				return err
			}
		}
		if err := iw.flush(); err != nil {
			return err
		}
		meta := bucket(tx, bucketSearchMeta)
		if err := meta.Put(keySearchCursor, itob(1)); err != nil {
			return err
		}
		return meta.Put(keySearchVersion, itob(1))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = MustOpenDir(t, dir, &Options{NoSync: true})
	if err := db.WaitIndexed(ctx, 0); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"muller", "mueller", "grusse", "gruesse"} {
		hits, _, err := db.Search(ctx, parley.SearchQuery{Text: q})
		if err != nil || len(hits) != 1 {
			t.Errorf("search %q after the upgrade: %d hits, %v; want 1", q, len(hits), err)
		}
	}
	checkSearchIndex(t, db)
}
