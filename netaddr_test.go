package parley_test

import (
	"net/netip"
	"testing"

	"github.com/parley-chat/parley"
)

func TestPublicAddr(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1", false},
		{"127.8.9.1", false},
		{"::1", false},
		{"::ffff:127.0.0.1", false},
		{"10.0.0.1", false},
		{"172.16.5.4", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"100.64.0.1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"fd00::1", false},
		{"fe80::1", false},
		{"224.0.0.1", false},
		{"198.18.0.1", false},
		{"8.8.8.8", true},
		{"2a00:1450:4001::1", true},
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			if got := parley.PublicAddr(netip.MustParseAddr(tc.addr)); got != tc.want {
				t.Errorf("PublicAddr(%s)=%v, want %v", tc.addr, got, tc.want)
			}
		})
	}
}
