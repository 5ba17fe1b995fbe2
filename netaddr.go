package parley

import (
	"errors"
	"net/netip"
	"syscall"
)

// ErrNotPublic is what a connection refused by PublicOnly fails with.
var ErrNotPublic = errors.New("address is not public")

// PublicAddr reports whether ip is an address on the public internet: not
// loopback, private (RFC 1918, RFC 4193), link-local, shared (RFC 6598),
// unspecified, multicast or otherwise reserved.
func PublicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range reservedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

var reservedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("2001:db8::/32"),
}

// PublicOnly is a net.Dialer Control function that refuses, with
// ErrNotPublic, to connect to an address that is not public (PublicAddr).
// It sees the address as dialed, after name resolution, so a name that
// resolves to a public address when checked and to a private one later
// (DNS rebinding) is still refused.
func PublicOnly(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !PublicAddr(ap.Addr()) {
		return ErrNotPublic
	}
	return nil
}
