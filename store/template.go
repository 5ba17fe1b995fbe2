package store

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// bucketTemplates holds the email templates (schema version 7): id →
// Template.
const bucketTemplates = "templates"

func templateTable() table[parley.Template] {
	return table[parley.Template]{
		name:    "template",
		bucket:  bucketTemplates,
		id:      func(t *parley.Template) *uint64 { return &t.ID },
		prepare: prepareAuthored(func(t *parley.Template) *parley.Authored { return &t.Authored }),
	}
}

// CreateTemplate implements parley.TemplateStore.
func (db *DB) CreateTemplate(ctx context.Context, t *parley.Template) error {
	return createCapped(ctx, db, templateTable(), t, parley.MaxTemplates, "templates")
}

// Template implements parley.TemplateStore.
func (db *DB) Template(ctx context.Context, id uint64) (*parley.Template, error) {
	return readRecord(db, templateTable(), id)
}

// Templates implements parley.TemplateStore.
func (db *DB) Templates(ctx context.Context) ([]*parley.Template, error) {
	out, err := listRecords(db, templateTable())
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []*parley.Template{}
	}
	slices.SortStableFunc(out, func(a, b *parley.Template) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// UpdateTemplate implements parley.TemplateStore. fn may not change ID,
// CreatedBy or CreatedAt (changes are undone).
func (db *DB) UpdateTemplate(ctx context.Context, id uint64, fn func(*parley.Template) error) (*parley.Template, error) {
	return updateRecord(ctx, db, templateTable(), id, fn)
}

// DeleteTemplate implements parley.TemplateStore.
func (db *DB) DeleteTemplate(ctx context.Context, id uint64) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		b := bucket(tx, bucketTemplates)
		if b.Get(itob(id)) == nil {
			return templateTable().notFound(id)
		}
		return b.Delete(itob(id))
	})
}
