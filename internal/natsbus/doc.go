// Package natsbus carries lc's events across machines through NATS
// JetStream: a Publisher that lc process puts among its hooks, and a
// Worker that runs the hook engine of package script on the events of a
// shared durable consumer (lc hooks worker).
//
// # Subjects
//
// Everything is in one stream (Config.Stream, default LC, subjects lc.>,
// file storage, a duplicate window of DefaultDuplicates, messages kept
// for Config.MaxAge), created by whichever side finds it missing:
//
//	lc.<node>.call           CallCompleted events, as their JSON
//	lc.<node>.pcap           FileClosed events of files of no call ("other" files)
//	lc.<node>.pcap.<hash>    FileClosed events of the files of one Call-ID (32 hex digits of its SHA-256)
//	lc.<node>.dead           messages that failed on every delivery (dead letters)
//
// Every event message carries its event ID in Nats-Msg-Id, so that the
// stream stores an event that is published again within its duplicate
// window once.
//
// # Files
//
// With Config.Files the pcap files travel in a JetStream object store
// bucket, created when missing with Config.MaxAge as its TTL: the Publisher puts the file of each
// FileClosed event as <node>/<path relative to Config.Root> before it
// publishes the event, and sets HeaderRoot on every message; a Worker
// fetches the files of a message into a temporary directory of its own,
// runs the hooks on events whose paths point there, and removes the
// directory when it settles the message.
//
// Servers before 2.10 take one filter subject per consumer: there the
// Worker's consumer filters lc.*.* and the Worker acknowledges and skips
// the dead letters it also gets.
//
// # Order and delivery
//
// The Publisher is a hook of lc's engine: it publishes a call's events in
// the engine's order, each after the one before was acknowledged by the
// stream, and its run ends with the acknowledgement, so an event stays in
// lc's journal until the stream has it. Workers consume lc.*.call and
// lc.*.pcap only: a call's message is one unit of work, with the call's
// file events read from lc.<node>.pcap.<hash> (stored before it), run in
// order by one worker, acknowledged when the hooks of all of them have
// run. A message whose hooks failed is delivered again (MaxDeliver in all,
// RetryDelay doubling), then goes to lc.<node>.dead; so does one whose
// last delivery was never acknowledged (the workers read the server's
// max-deliveries advisory). Delivery is at least once: a worker that
// dies, or stops past its drain deadline, leaves its messages to be
// delivered again, and all their hooks run again.
//
// # Goroutines
//
//	goroutine             count                        does
//	engine workers        as package script says       Publisher.Run (publish, wait for the ack, retry) / the hooks of a Worker
//	Worker.Run            1 (the caller)               pulls as many messages as the Worker has room for, closes the engine
//	Worker.submit         1                            submits each prepared message's events to the engine
//	Worker.prepare        1 per message being prepared reads a call's file events, fetches the files
//	in-progress pings     1 per message a Worker holds msg.InProgress every AckWait/3
//	nats.go               a few per connection         reading, reconnecting, pull requests, a Worker's max-deliveries advisories
//
// # Errors
//
// A broker that cannot be reached is never fatal: the connection keeps
// trying, the Publisher retries each event until its context is done
// (lc's drain deadline), the Worker waits for the stream and its
// consumer. Connect logs the connection made, lost and made again, and
// why attempts fail (a refused certificate or password) at Warn once a
// minute at most; the Publisher and the Worker log their first failure
// at Warn and count the rest.
package natsbus
