package server

import (
	"net/http"
	"strconv"
	"time"
)

// Paging shared by the list endpoints: a page of results and the cursor
// to the next.

type page struct {
	// Total is, on the lists HubSpot gives one (inboxes, channels,
	// channel accounts), how many items the whole list holds.
	Total   *int       `json:"total,omitempty"`
	Results any        `json:"results"`
	Paging  *pagingOut `json:"paging,omitempty"`
}

// slicePage answers a list held in memory a page at a time, as HubSpot's
// lists with a total: ?limit= (1 to 500, default 100) items from ?after=,
// a cursor from paging.next.after.
func slicePage[J any](r *http.Request, all []J) (page, error) {
	limit, err := queryLimit(r, 100, 500)
	if err != nil {
		return page{}, err
	}
	after, err := queryCursor(r, 0)
	if err != nil {
		return page{}, err
	}
	if after > uint64(len(all)) {
		return page{}, errCursor()
	}
	n := len(all)
	rest := all[after:]
	p := page{Total: &n, Results: rest[:min(limit, len(rest))]}
	if len(rest) > limit {
		p.Paging = nextPage(strconv.FormatUint(after+uint64(limit), 10))
	}
	return p, nil
}

type pagingOut struct {
	Next struct {
		After string `json:"after"`
	} `json:"next"`
}

func nextPage(after string) *pagingOut {
	p := &pagingOut{}
	p.Next.After = after
	return p
}

// listPage converts items with conv into a page of results; when more
// follow, paging.next.after is the cursor of the last item.
func listPage[T, J any](items []T, more bool, conv func(T) J, cursor func(T) string) page {
	out := make([]J, len(items))
	for i, it := range items {
		out[i] = conv(it)
	}
	p := page{Results: out}
	if more && len(items) > 0 {
		p.Paging = nextPage(cursor(items[len(items)-1]))
	}
	return p
}

// msTime is a time in the API's answers: UTC, ISO-8601 with milliseconds,
// as HubSpot writes them ("2026-12-07T14:05:00.123Z").
type msTime time.Time

// MarshalJSON writes t as HubSpot does.
func (t msTime) MarshalJSON() ([]byte, error) {
	return appendMsTime(make([]byte, 0, 26), time.Time(t)), nil
}

// msTimeOrNil is t as an msTime, or nil for the zero time.
func msTimeOrNil(t time.Time) *msTime {
	if t.IsZero() {
		return nil
	}
	m := msTime(t)
	return &m
}
