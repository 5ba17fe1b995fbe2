package main

import (
	"io"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// TestGCHeadroomPercent: the GC percent gives the headroom over a small
// live heap, Go's default over a large one, within bounds, and is set
// again only when it moves by more than a tenth.
func TestGCHeadroomPercent(t *testing.T) {
	g := &gcHeadroom{headroom: 64 << 20}
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 6400}, // before the first collection: as if 1 MiB
		{8 << 20, 800},
		{32 << 20, 200},
		{64 << 20, 100},
		{1 << 30, 100},
		{1 << 10, 10000},
	} {
		if got := g.percent(c.live); got != c.want {
			t.Errorf("percent(%d) = %d, want %d", c.live, got, c.want)
		}
	}
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	g.adjust(16 << 20)
	if got := debug.SetGCPercent(100); got != 400 {
		t.Errorf("after adjust for 16 MiB live: GC percent %d, want 400", got)
	}
	debug.SetGCPercent(400)
	g.adjust(17 << 20) // 376: within a tenth, left
	if got := debug.SetGCPercent(400); got != 400 {
		t.Errorf("after adjust for 17 MiB: %d, want 400 kept", got)
	}
	g.adjust(24 << 20) // 266
	if got := debug.SetGCPercent(100); got != 266 {
		t.Errorf("after adjust for 24 MiB: %d, want 266", got)
	}
}

// TestGCHeadroomFlags: --gc-headroom and its twin take whole MiB.
func TestGCHeadroomFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--gc-headroom", "-1"}, nil, "--gc-headroom"},
		{nil, map[string]string{"PARLEY_GC_HEADROOM": "64MiB"}, "PARLEY_GC_HEADROOM"},
		{nil, map[string]string{"PARLEY_GC_HEADROOM": "-5"}, "PARLEY_GC_HEADROOM"},
	} {
		_, err := parseConfig(c.args, func(k string) string { return c.env[k] }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: %v, want an error naming %s", c.args, c.env, err, c.want)
		}
	}
	c, err := parseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil || c.GCHeadroom != 64 {
		t.Errorf("default: %d, %v; want 64", c.GCHeadroom, err)
	}
	c, err = parseConfig(nil, func(k string) string { return map[string]string{"PARLEY_GC_HEADROOM": "0"}[k] }, io.Discard)
	if err != nil || c.GCHeadroom != 0 {
		t.Errorf("env 0: %d, %v", c.GCHeadroom, err)
	}
}

// TestGCHeadroomRunning: a running Parley reports the GC percent it set in
// go_gc_gogc_percent: above Go's default with the default headroom over
// its small heap, 100 with --gc-headroom 0, and GOGC's value where the
// operator set one.
func TestGCHeadroomRunning(t *testing.T) {
	for _, c := range []struct {
		name string
		env  []string
		want func(float64) bool
	}{
		{"default", nil, func(p float64) bool { return p > 100 }},
		{"off", []string{"PARLEY_GC_HEADROOM=0"}, func(p float64) bool { return p == 100 }},
		{"GOGC", []string{"GOGC=50"}, func(p float64) bool { return p == 50 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			metricsAddr := freePort(t)
			startProc(t, t.TempDir(), append([]string{"PARLEY_METRICS_LISTEN=" + metricsAddr}, c.env...)...)
			var got float64
			deadline := time.Now().Add(30 * time.Second)
			for {
				fam := scrape(t, "http://"+metricsAddr+"/metrics", "")["go_gc_gogc_percent"]
				if fam == nil || len(fam.Metric) != 1 {
					t.Fatal("no go_gc_gogc_percent")
				}
				if got = fam.Metric[0].GetGauge().GetValue(); c.want(got) {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("go_gc_gogc_percent %v", got)
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}
