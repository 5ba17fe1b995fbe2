package parley

import (
	"strconv"
	"strings"
)

// Actor id prefixes, as in HubSpot's conversations API.
const (
	ActorUser    = "A-" // an agent or admin
	ActorVisitor = "V-" // a contact or visitor
	ActorEmail   = "E-" // an email address
	ActorBot     = "B-" // a bot
	ActorSystem  = "S-" // Parley itself
)

// SystemActorID is the actor of system events (status changes, routing).
const SystemActorID = ActorSystem + "parley"

// UserActorID returns the actor id of user id.
func UserActorID(id uint64) string { return ActorUser + strconv.FormatUint(id, 10) }

// ContactActorID returns the actor id of contact id.
func ContactActorID(id uint64) string { return ActorVisitor + strconv.FormatUint(id, 10) }

// BotActorID returns the actor id of the bot of widget id: "B-" + id.
func BotActorID(widgetID uint64) string { return ActorBot + strconv.FormatUint(widgetID, 10) }

// ParseActorID splits an actor id into its prefix ("A-", "V-", …) and numeric
// id. It returns EINVALID for anything else; "E-" and "S-" actors have no
// numeric id and are returned with id 0.
func ParseActorID(s string) (prefix string, id uint64, err error) {
	if len(s) < 3 || s[1] != '-' {
		return "", 0, Errorf(EINVALID, "invalid actor id %q", truncate(s, 40))
	}
	prefix, rest := s[:2], s[2:]
	switch prefix {
	case ActorUser, ActorVisitor, ActorBot:
		n, err := strconv.ParseUint(rest, 10, 64)
		if err != nil || n == 0 {
			return "", 0, Errorf(EINVALID, "invalid actor id %q", truncate(s, 40))
		}
		return prefix, n, nil
	case ActorEmail:
		if !strings.Contains(rest, "@") {
			return "", 0, Errorf(EINVALID, "invalid actor id %q", truncate(s, 40))
		}
		return prefix, 0, nil
	case ActorSystem:
		return prefix, 0, nil
	}
	return "", 0, Errorf(EINVALID, "invalid actor id %q", truncate(s, 40))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
