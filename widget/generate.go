package widget

//go:generate go run ./internal/gen
