package store

import (
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/parley-chat/parley"
)

// oldDefaultTexts are the welcome, away and email-capture texts that
// widgets were given before a widget's texts could be left to its
// language's defaults: the first start's English ones, and the setup
// wizard's in English and German. No admin wrote them, so a widget that
// still has one shows the default in the page's language instead.
var oldDefaultTexts = []string{
	"Hi! How can we help?",
	"We're away right now. Leave a message and we'll get back to you.",
	"We’re away right now. Leave a message and we’ll get back to you.",
	"Leave your email so we can reach you if you go.",
	"Hallo! Wie können wir helfen?",
	"Wir sind gerade nicht da. Hinterlassen Sie eine Nachricht, wir melden uns.",
	"Hinterlassen Sie Ihre E-Mail-Adresse, damit wir Sie erreichen, falls Sie gehen.",
}

// migrateWidgetTexts lets widgets' texts follow the page's language: a
// welcome, away or email-capture text that is one of oldDefaultTexts
// becomes empty (the default in the page's language), and a widget that
// had no welcome, which showed none, keeps showing none (HideWelcome).
func migrateWidgetTexts(tx *bolt.Tx) error {
	tb := widgetTable()
	b := bucket(tx, bucketWidgets)
	var todo []*parley.Widget
	err := b.ForEach(func(k, data []byte) error {
		w := new(parley.Widget)
		if err := tb.decode(btoi(k), data, w); err != nil {
			return err
		}
		todo = append(todo, w)
		return nil
	})
	if err != nil {
		return err
	}
	for _, w := range todo {
		m := &w.Message
		switch {
		case m.Welcome == "":
			m.HideWelcome = true
		case slices.Contains(oldDefaultTexts, m.Welcome):
			m.Welcome = ""
		}
		if slices.Contains(oldDefaultTexts, m.EmailCapture.Message) {
			m.EmailCapture.Message = ""
		}
		if slices.Contains(oldDefaultTexts, w.Availability.AwayMessage) {
			w.Availability.AwayMessage = ""
		}
		data, err := tb.encode(w)
		if err != nil {
			return err
		}
		if err := b.Put(itob(w.ID), data); err != nil {
			return err
		}
	}
	return nil
}
