package app

import (
	"context"
	"time"

	"github.com/parley-chat/parley"
)

// Retention (Inbox.RetentionDays): an inbox that keeps conversations for N
// days deletes for good each conversation that is closed or in the trash
// once its latest message is N days old, as an admin's "Delete forever"
// does (its files go with the next sweep, its subscribers get
// conversation.privacyDeletion). Open conversations are never deleted.
// The sweep runs at start, every retentionEvery by the app's clock, and
// when an inbox's retention changes (KickRetention).

// retentionEvery is how often the retention sweep runs.
const retentionEvery = time.Hour

// retentionBatch is how many conversations one query of the sweep reads.
const retentionBatch = 500

// KickRetention runs the retention sweep soon: an inbox's retention
// changed.
func (a *App) KickRetention() {
	select {
	case a.retainNow <- struct{}{}:
	default:
	}
}

// retain runs the retention sweep until the app closes.
func (a *App) retain() {
	defer a.wg.Done()
	for {
		a.retainAll(a.ctx)
		timer, stop := a.newTimer(a.Now().Add(retentionEvery))
		select {
		case <-a.ctx.Done():
			stop()
			return
		case <-timer:
		case <-a.retainNow:
			stop()
		}
	}
}

// retainAll deletes what every inbox's retention says is due, and logs
// how many conversations it deleted.
func (a *App) retainAll(ctx context.Context) {
	inboxes, err := a.db.Inboxes(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Error().Err(err).Msg("retention: read inboxes")
		}
		return
	}
	for _, in := range inboxes {
		if in.RetentionDays <= 0 {
			continue
		}
		n, err := a.retainInbox(ctx, in.ID, in.RetentionDays, true)
		if err != nil && ctx.Err() == nil {
			a.log.Error().Err(err).Uint64("inboxId", in.ID).Msg("retention: delete old conversations")
		}
		if n > 0 {
			a.log.Info().Uint64("inboxId", in.ID).Int("days", in.RetentionDays).Int("deleted", n).Msg("retention: old conversations deleted")
		}
	}
}

// RetentionCount is how many conversations of inbox inboxID a retention
// of days would delete now: the settings' dry run.
func (a *App) RetentionCount(ctx context.Context, inboxID uint64, days int) (int, error) {
	return a.retainInbox(ctx, inboxID, days, false)
}

// retainInbox finds the conversations of inboxID that are closed or in
// the trash and whose latest message is older than days, deletes them
// for good when del, and returns how many.
func (a *App) retainInbox(ctx context.Context, inboxID uint64, days int, del bool) (int, error) {
	cutoff := a.Now().Add(-time.Duration(days) * 24 * time.Hour)
	old := func(t *parley.Thread) bool {
		return (t.Status == parley.StatusClosed || t.Archived) && !t.LatestMessageAt.IsZero() && t.LatestMessageAt.Before(cutoff)
	}
	n := 0
	for _, archived := range []bool{false, true} {
		var after uint64
		for {
			threads, more, err := a.db.Threads(ctx, parley.ThreadFilter{InboxIDs: []uint64{inboxID}, Archived: &archived,
				LatestBefore: cutoff, AfterID: after, Limit: retentionBatch})
			if err != nil {
				return n, err
			}
			for _, t := range threads {
				after = t.ID
				if !old(t) {
					continue
				}
				if !del {
					n++
					continue
				}
				gone, err := a.db.DeleteThread(ctx, t.ID, func(t *parley.Thread) error {
					if !old(t) {
						return parley.Errorf(parley.ECONFLICT, "thread %d changed", t.ID)
					}
					return nil
				})
				switch {
				case parley.ErrorCode(err) == parley.ECONFLICT || parley.ErrorCode(err) == parley.ENOTFOUND:
					continue // reopened or written to meanwhile, or gone
				case err != nil:
					return n, err
				}
				n++
				a.events.ThreadDeleted(ctx, gone)
			}
			if !more {
				break
			}
		}
	}
	if del && n > 0 {
		a.FilesDeleted()
	}
	return n, nil
}
