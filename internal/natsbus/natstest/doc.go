// Package natstest runs embedded NATS servers with JetStream for tests:
// a plain one (Start) that a test can restart on the same port and store,
// and two that want their clients to say who they are: one that verifies
// a client certificate (StartTLS, with the PEM files it generates) and one
// in operator mode that wants a user's credentials (StartCreds, with the
// .creds file of a user it accepts).
package natstest
