/*
 * lanes/mbus.h — the client of mbus, the service registry (os/programs/mbus), for programs,
 * servers and init. os/lib/src/mbus.c.
 *
 * A process gets the registry's lane at start with tag "mbus". Every call is a request of
 * os/abi/messages.toml (mbus.*) in one conversation (lanes_ipc_request); enumerate and bind then
 * take the entries / the bound lane from the conversation's lane. The calls share one completion
 * queue under a lock, so any thread may use them.
 */
#ifndef LANES_LIBC_MBUS_H
#define LANES_LIBC_MBUS_H

#include <lanes.h>
#include <lanes/abi/messages.h>

/** Publishes lane under name with properties "k=v;k=v"; *id gets the object id. */
int64_t lanes_mbus_publish(int32_t mbus, const char *name, const char *props, int32_t lane, uint64_t *id);
/** Every object with id > after matching filter ("" all; "k=v&k=v", "a|b"), in the registry's
 *  order, to fn(e, arg). Returns how many there were, or an error (fn may have seen some). */
int64_t lanes_mbus_enumerate(int32_t mbus, const char *filter, uint64_t after,
                             void (*fn)(const struct lane_msg_mbus_entry *e, void *arg), void *arg);
/** The newest object with id > after matching filter: 1 found (*e filled), 0 none, < 0 error. */
int64_t lanes_mbus_find(int32_t mbus, const char *filter, uint64_t after, struct lane_msg_mbus_entry *e);
/** Waits up to timeout_ns for an object with id > after matching filter (found at once if it exists). */
int64_t lanes_mbus_await(int32_t mbus, const char *filter, uint64_t after, uint64_t timeout_ns,
                         struct lane_msg_mbus_entry *e);
/** A lane to object id (a new handle), or an error (NOENT: no such object). */
int64_t lanes_mbus_bind(int32_t mbus, uint64_t id);

#endif
