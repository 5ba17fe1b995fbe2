package server

// Paging shared by the list endpoints: a page of results and the cursor
// to the next.

type page struct {
	Results any        `json:"results"`
	Paging  *pagingOut `json:"paging,omitempty"`
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
