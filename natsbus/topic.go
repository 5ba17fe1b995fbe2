package natsbus

import "strings"

// subject returns the NATS subject of topic under prefix: the topic as one
// subject token, with every byte NATS gives a meaning to ('.', '*', '>',
// whitespace) or that is not printable ASCII written as %XX, '%' included,
// so two topics never share a subject. The empty topic, which cannot be an
// empty token, is "%".
func subject(prefix, topic string) string {
	if topic == "" {
		return prefix + "%"
	}
	var b strings.Builder
	b.Grow(len(prefix) + len(topic))
	b.WriteString(prefix)
	for i := 0; i < len(topic); i++ {
		c := topic[i]
		if c > ' ' && c < 0x7f && c != '.' && c != '*' && c != '>' && c != '%' {
			b.WriteByte(c)
			continue
		}
		const hex = "0123456789ABCDEF"
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
