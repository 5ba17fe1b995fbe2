package console

//go:generate go run ./internal/gen
