/*
 * lanes/console.h — the console for programs: over a lane to the console server when the
 * process has one, else through the kernel (sys_console_write / sys_console_read).
 * os/lib/src/console.c; printf, puts, putchar, console_write and console_getc use it.
 *
 * A process gets its console lane at start with tag "console" (init gives it to the shell, the
 * shell to every program it runs) and the registry's lane with tag "mbus". Each request is one
 * conversation (os/abi/messages.toml, console.*): offer{send console.Write + bytes, recv reply}.
 * If the server ends (END_OF_LANE), output falls back to the kernel — which puts it into its log
 * ring for the next server, or writes COM1 itself while there is none — and the library binds
 * the new server through mbus as soon as the kernel says one holds COM1 again.
 *
 * The mbus client (find, await, bind, publish) is lanes/mbus.h; this header includes it.
 */
#ifndef LANES_LIBC_CONSOLE_H
#define LANES_LIBC_CONSOLE_H

#include <lanes.h>
#include <lanes/abi/messages.h>
#include <lanes/mbus.h>

#define LANES_CONSOLE_MAX 4096          /* bytes in one console.Write / console.Read */
#define LANES_CONSOLE_NONBLOCK 1        /* console.Read flags */
#define LANES_CONSOLE_MODE_ECHO 1       /* console.Mode bits */
#define LANES_CONSOLE_MODE_ONLCR 2
#define LANES_CONSOLE_MODE_ISIG 4       /* Ctrl-C / Ctrl-\ / Ctrl-Z are not input: the server tells
                                         * posix (posix.ConsoleSignal), which signals the
                                         * foreground process group; the shell sets it while a
                                         * foreground job runs */

/** Writes all len bytes (requests may still be in flight when it returns); returns len or an error. */
int64_t lanes_console_write(const void *buf, size_t len);
/** Waits until every write is done (exit() does this). */
void lanes_console_flush(void);
/** Reads 1..max bytes, waiting up to timeout_ns (0: don't wait, AGAIN if nothing). */
int64_t lanes_console_read(void *buf, size_t max, uint64_t timeout_ns);
/** console.Mode: sets then clears mode bits; returns the new mode. NOENT without a console lane. */
int64_t lanes_console_mode(uint32_t set, uint32_t clear);
/** console.Stat: the server's figures. */
int64_t lanes_console_stats(struct lane_msg_console_stats *out);
/** The lane in use (LANES_HANDLE_NONE: none, output goes through the kernel). */
int32_t lanes_console_lane(void);
/** Binds the console server that holds COM1 now through mbus, waiting up to timeout_ns for it
 *  to be published; replaces the current lane. Returns 0, NOENT (no server holds COM1 / no mbus
 *  lane) or an IPC error. */
int64_t lanes_console_reconnect(uint64_t timeout_ns);
/** Never use a lane for this process's stdio (the console server itself: its own printf must
 *  not become a request to itself); output goes through the kernel. */
void lanes_console_kernel_only(void);
/** A console request of the caller's own making (tests): sends msg (+ data) in a conversation
 *  on the console lane and receives the reply into reply (cap bytes); returns the reply's length. */
int64_t lanes_console_call(const void *msg, size_t len, void *reply, size_t cap, uint64_t timeout_ns);

#endif
