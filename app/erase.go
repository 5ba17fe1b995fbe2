package app

import (
	"context"
	"sync"
	"time"

	"github.com/parley-chat/parley"
)

// EraseContact erases contact id for good (GDPR Art. 17): the store
// deletes the contact and everything keyed by it in one commit
// (ContactStore.EraseContact); then each of its conversations is announced
// as deleted, and the blobs of its files are deleted at once, unless
// another file names the same bytes. by is the admin who asked, for the
// log. ENOTFOUND if there is no such contact.
//
// hold, if not nil, is held while the store commits, and only then: the
// transport's lock that keeps the contact's live visitors from writing
// meanwhile. A blob whose deletion fails stays for the next sweep
// (FilesDeleted); the erasure itself has committed and is not undone.
func (a *App) EraseContact(ctx context.Context, by *parley.User, id uint64, hold sync.Locker) (*parley.Erasure, error) {
	start := a.Now()
	if hold != nil {
		hold.Lock()
	}
	e, err := a.db.EraseContact(ctx, id)
	if hold != nil {
		hold.Unlock()
	}
	if err != nil {
		return nil, err
	}
	for _, t := range e.Threads {
		a.events.ThreadDeleted(ctx, t)
	}
	n, err := a.deleteBlobs(ctx, start, e.FileKeys)
	if err != nil {
		a.log.Error().Err(err).Uint64("contactId", id).Msg("delete the erased contact's files")
		a.FilesDeleted()
	}
	a.log.Info().Uint64("contactId", id).Str("by", by.ActorID()).Int("threads", len(e.Threads)).Int("blobs", n).Msg("contact erased")
	return e, nil
}

// deleteBlobs deletes the blobs under keys, whose records are gone, that
// were stored before cutoff and that no file names now. A blob stored again
// since cutoff is being uploaded anew by someone else, whose record may not
// have committed yet: it stays, and the regular sweep decides later.
func (a *App) deleteBlobs(ctx context.Context, cutoff time.Time, keys []string) (int, error) {
	if a.cfg.Blobs == nil || len(keys) == 0 {
		return 0, nil
	}
	gone := make(map[string]bool, len(keys))
	for _, k := range keys {
		gone[k] = true
	}
	named, err := a.db.FileKeys(ctx)
	if err != nil {
		return 0, err
	}
	return a.cfg.Blobs.Sweep(ctx, cutoff, func(k string) bool { return !gone[k] || named[k] })
}
