/* sigtrace.c — the cancellation trace records (class `signal`) from user space: each record's
 * fields after the header are laid out with the generated struct and handed to the kernel's
 * trace_user call (generic/sys_signal.c), which checks type and length and writes the header. */
#include <lanes.h>
#include <lanes/abi/trace.h>
#include <lanes/sigtrace.h>
#include <string.h>

#define BODY(e) ((const uint8_t *)&(e) + sizeof(struct trace_hdr))
#define FIXED(e) (sizeof(e) - sizeof(struct trace_hdr))

static uint64_t emit(uint32_t type, const void *body, size_t len)
{
    int64_t r = lanes_sys_trace_user(type, body, len);
    return r > 0 ? (uint64_t)r : 0;
}

/* A record with a str tail: the fixed part, then u16 length + bytes. */
static uint64_t emit_tail(uint32_t type, const void *fixed, size_t flen, const char *s, size_t max)
{
    uint8_t buf[256];
    size_t n = s ? strlen(s) : 0;
    if (n > max)
        n = max;
    memcpy(buf, fixed, flen);
    buf[flen] = (uint8_t)n;
    buf[flen + 1] = (uint8_t)(n >> 8);
    memcpy(buf + flen + 2, s, n);
    return emit(type, buf, flen + 2 + n);
}

uint64_t lanes_trace_sys_begin(uint64_t call, uint32_t pid, uint32_t tid, uint32_t nr, int32_t fd, uint64_t arg,
                               const char *name)
{
    struct trace_ev_sys_begin e = { .call = call, .pid = pid, .tid = tid, .nr = nr, .fd = fd, .arg = arg };
    return emit_tail(TRACE_EV_SYS_BEGIN, BODY(e), FIXED(e), name, TRACE_SYS_BEGIN_NAME_MAX);
}

uint64_t lanes_trace_sys_end(uint64_t call, uint32_t pid, uint32_t tid, int64_t result, int outcome, int signo,
                             uint64_t requested, uint64_t done)
{
    struct trace_ev_sys_end e = { .call = call, .pid = pid, .tid = tid, .result = result, .outcome = (uint8_t)outcome,
                                  .signo = (uint8_t)signo, .requested = requested, .done = done };
    return emit(TRACE_EV_SYS_END, BODY(e), FIXED(e));
}

uint64_t lanes_trace_sig_generate(uint32_t sender, uint32_t pid, uint32_t tid, int signo, int why, uint64_t call,
                                  uint64_t value)
{
    struct trace_ev_sig_generate e = { .sender_pid = sender, .target_pid = pid, .target_tid = tid,
                                       .signo = (uint8_t)signo, .why = (uint8_t)why, .call = call, .value = value };
    return emit(TRACE_EV_SIG_GENERATE, BODY(e), FIXED(e));
}

uint64_t lanes_trace_sig_flag(uint64_t call, uint32_t tid, int from, int to, int signo)
{
    struct trace_ev_sig_flag e = { .call = call, .tid = tid, .from = (uint8_t)from, .to = (uint8_t)to, .signo = (uint8_t)signo };
    return emit(TRACE_EV_SIG_FLAG, BODY(e), FIXED(e));
}

uint64_t lanes_trace_sig_handler(uint64_t call, uint32_t pid, uint32_t tid, int signo, int phase, uint64_t handler)
{
    struct trace_ev_sig_handler e = { .call = call, .pid = pid, .tid = tid, .signo = (uint8_t)signo,
                                      .phase = (uint8_t)phase, .handler = handler };
    return emit(TRACE_EV_SIG_HANDLER, BODY(e), FIXED(e));
}

uint64_t lanes_trace_sig_action(uint32_t pid, uint32_t tid, int signo, int action, uint64_t call)
{
    struct trace_ev_sig_action e = { .pid = pid, .tid = tid, .signo = (uint8_t)signo, .action = (uint8_t)action, .call = call };
    return emit(TRACE_EV_SIG_ACTION, BODY(e), FIXED(e));
}


uint64_t lanes_utrace_sig_generate(uint32_t sender, uint32_t pid, uint32_t tid, int signo, int why, uint64_t call,
                                   uint64_t value)
{
    struct trace_ev_sig_generate e = { .sender_pid = sender, .target_pid = pid, .target_tid = tid,
                                       .signo = (uint8_t)signo, .why = (uint8_t)why, .call = call, .value = value };
    return lanes_utrace_record(0, TRACE_EV_SIG_GENERATE, BODY(e), FIXED(e), false);
}

uint64_t lanes_utrace_sig_flag(uint64_t call, uint32_t tid, int from, int to, int signo)
{
    struct trace_ev_sig_flag e = { .call = call, .tid = tid, .from = (uint8_t)from, .to = (uint8_t)to, .signo = (uint8_t)signo };
    return lanes_utrace_record(0, TRACE_EV_SIG_FLAG, BODY(e), FIXED(e), false);
}

uint64_t lanes_utrace_sig_handler(uint64_t call, uint32_t pid, uint32_t tid, int signo, int phase, uint64_t handler)
{
    struct trace_ev_sig_handler e = { .call = call, .pid = pid, .tid = tid, .signo = (uint8_t)signo,
                                      .phase = (uint8_t)phase, .handler = handler };
    return lanes_utrace_record(tid, TRACE_EV_SIG_HANDLER, BODY(e), FIXED(e), false);
}
