/*
 * objects_sysfs.c — how many kernel objects are alive, per type: /sys/kernel/mm/objects/.
 *
 *   process thread memory supervisor ioport irq sysfs uevents lane queue event stream
 *   ipc_submissions  ipc_submissions_list (one line per live submission: pid, tid, tag, items)
 *
 * Each is a count of objects created with a destructor and not yet destroyed (kobj_live in
 * handle.c), and ipc_submissions the IPC submissions with an action still outstanding. A leak
 * check that finds memory missing (os/programs/fuzz compares /sys/kernel/mm/free +
 * heap_cached) reads these before and after, so its report names the kind of object that
 * stayed behind — a process whose last reference was never dropped, a submission that never
 * completed — instead of only a byte count.
 */
#include <kernel/kernel.h>
#include <kernel/ipc.h>
#include <kernel/sysfs.h>

#define SHOW_LIVE(name_, type_)                                                     \
    static size_t show_##name_(struct sysfs_node *n, char *b, size_t cap)          \
    {                                                                               \
        (void)n;                                                                    \
        return sysfs_print(b, cap, "%u\n", kobj_live(type_));                       \
    }
SHOW_LIVE(process, LANES_OBJ_PROCESS)
SHOW_LIVE(thread, LANES_OBJ_THREAD)
SHOW_LIVE(memory, LANES_OBJ_MEMORY)
SHOW_LIVE(supervisor, LANES_OBJ_SUPERVISOR)
SHOW_LIVE(ioport, LANES_OBJ_IOPORT)
SHOW_LIVE(irq, LANES_OBJ_IRQ)
SHOW_LIVE(sysfs, LANES_OBJ_SYSFS)
SHOW_LIVE(uevents, LANES_OBJ_UEVENTS)
SHOW_LIVE(lane, LANES_OBJ_LANE)
SHOW_LIVE(queue, LANES_OBJ_QUEUE)
SHOW_LIVE(event, LANES_OBJ_EVENT)
SHOW_LIVE(stream, LANES_OBJ_NONE)   /* a lane pair's shared stream (ipc.c) has no type of its own */

static size_t show_ipc_submissions(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    return sysfs_print(b, cap, "%u\n", ipc_live_submissions());
}

static size_t show_ipc_submissions_list(struct sysfs_node *n, char *b, size_t cap)
{
    (void)n;
    return ipc_describe_live(b, cap);
}

static const struct sysfs_attr object_attrs[] = {
    { "process", show_process, NULL },
    { "thread", show_thread, NULL },
    { "memory", show_memory, NULL },
    { "supervisor", show_supervisor, NULL },
    { "ioport", show_ioport, NULL },
    { "irq", show_irq, NULL },
    { "sysfs", show_sysfs, NULL },
    { "uevents", show_uevents, NULL },
    { "lane", show_lane, NULL },
    { "queue", show_queue, NULL },
    { "event", show_event, NULL },
    { "stream", show_stream, NULL },
    { "ipc_submissions", show_ipc_submissions, NULL },
    { "ipc_submissions_list", show_ipc_submissions_list, NULL },
};

static void objects_sysfs_init(void)
{
    sysfs_add("/sys/kernel/mm/objects", object_attrs, ARRAY_SIZE(object_attrs), NULL);
}
SYSFS_PROVIDER(41, objects, objects_sysfs_init, NULL);
