/* enum_test.c — host test of the pci server's bus walk (programs/pci/enum.c) against a made-up
 * configuration space with the bad input real firmware and hardware can give: a bridge loop, a
 * bridge to bus 0, a function that answers its vendor id but reads all 0xff otherwise, a 64-bit
 * BAR in the last slot, a 64-bit BAR whose range wraps past the end of the address space, an
 * unknown header type, a capability list that loops. The walk must finish, say what it skipped,
 * size the good BARs as Linux does, and leave every BAR and command register as it found them.
 * Then the walk again through claim.c with one function claimed by the kernel (its trace rings'
 * ivshmem device): the same sizes and flags, and not one configuration write reaches it.
 * Run by `make -C os test-host`; prints "N passed, N failed".
 */
#include "../pci.h"
#include <stdio.h>
#include <string.h>

#define NBUS 4
struct fake {
    bool present;
    uint32_t cfg[64];
    uint64_t size[7];           /* BAR sizes (0 = none; a 64-bit BAR's size sits in its low slot), [6] ROM */
};
static struct fake bus[NBUS][32][8];
static char reports[32][160];
static int nreports, writes_to_absent, writes_to[NBUS][32][8];

static uint32_t rd(void *ctx, uint8_t b, uint8_t d, uint8_t f, uint8_t off)
{
    (void)ctx;
    if (b >= NBUS || !bus[b][d][f].present)
        return 0xffffffffu;
    return bus[b][d][f].cfg[off / 4];
}

static void wr(void *ctx, uint8_t b, uint8_t d, uint8_t f, uint8_t off, uint32_t v)
{
    (void)ctx;
    if (b >= NBUS || !bus[b][d][f].present) {
        writes_to_absent++;
        return;
    }
    writes_to[b][d][f]++;
    struct fake *x = &bus[b][d][f];
    int hdr = (x->cfg[3] >> 16) & 0x7f;
    int nbars = hdr == 0 ? 6 : hdr == 1 ? 2 : 0;
    int i = (off - 0x10) / 4;
    if (off >= 0x10 && i < nbars) {
        /* all ones: the size mask reads back; anything else is stored as written (so a BAR
         * that firmware left at an impossible address stays there) */
        bool upper = i > 0 && ((x->cfg[4 + i - 1] >> 1) & 3) == 2 && !(x->cfg[4 + i - 1] & 1) && x->size[i - 1];
        if (upper)
            x->cfg[4 + i] = v == 0xffffffffu ? (uint32_t)(~(x->size[i - 1] - 1) >> 32) : v;
        else if (x->size[i])
            x->cfg[4 + i] = v == 0xffffffffu ? ((uint32_t)~(x->size[i] - 1) & ~0xfu) | (x->cfg[4 + i] & ((x->cfg[4 + i] & 1) ? 3u : 0xfu)) : v;
        return;
    }
    uint8_t rom = hdr == 0 ? 0x30 : 0x38;
    if (off == rom) {
        x->cfg[rom / 4] = x->size[6] ? (v & (uint32_t)~(x->size[6] - 1) & 0xfffff801u) : 0;
        return;
    }
    if (off == 0x04) {                              /* command, and status bits are write-1-to-clear */
        x->cfg[1] = (v & 0xffff) | ((x->cfg[1] >> 16) & ~(v >> 16)) << 16;
        return;
    }
    x->cfg[off / 4] = v;
}

static void report(void *ctx, const char *msg)
{
    (void)ctx;
    if (nreports < 32)
        snprintf(reports[nreports++], sizeof reports[0], "%s", msg);
}

static struct fake *fn(int b, int d, int f, uint16_t vendor, uint16_t device, uint32_t cls, int hdr)
{
    struct fake *x = &bus[b][d][f];
    memset(x, 0, sizeof *x);
    x->present = true;
    x->cfg[0] = vendor | (uint32_t)device << 16;
    x->cfg[1] = 0x0007 | 0x0010u << 16;          /* I/O + memory + bus master on; status: capability list */
    x->cfg[2] = cls << 8 | 0x01;
    x->cfg[3] = (uint32_t)hdr << 16;
    x->cfg[13] = 0;                               /* no capabilities unless set */
    x->cfg[15] = 0x010b;                          /* pin A, line 11 */
    return x;
}

static void bar(struct fake *x, int i, uint64_t base, uint64_t size, uint32_t type)
{
    x->size[i] = size;
    x->cfg[4 + i] = (uint32_t)base | type;
    if ((type & 6) == 4 && i < 5)
        x->cfg[5 + i] = (uint32_t)(base >> 32);
}

static int passed, failed;
#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        if (cond) {                                                              \
            passed++;                                                            \
        } else {                                                                 \
            failed++;                                                            \
            printf("FAILED line %d: ", __LINE__);                                \
            printf(__VA_ARGS__);                                                 \
            printf("\n");                                                        \
        }                                                                        \
    } while (0)

static bool reported(const char *name, const char *words)
{
    for (int i = 0; i < nreports; i++)
        if (strstr(reports[i], name) && strstr(reports[i], words))
            return true;
    return false;
}

static struct pci_fn *find(struct pci_fn *fns, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(fns[i].name, name))
            return &fns[i];
    return NULL;
}

int main(void)
{
    fn(0, 0, 0, 0x8086, 0x1237, 0x060000, 0);                           /* host bridge */
    struct fake *br = fn(0, 1, 0, 0x1b36, 0x0001, 0x060400, 1);         /* bridge to bus 1 */
    br->cfg[6] = 0x00010100;                                            /* primary 0, secondary 1, subordinate 1 */
    struct fake *loop = fn(1, 0, 0, 0x1b36, 0x0001, 0x060400, 1);       /* bus 1: a bridge back to bus 1 */
    loop->cfg[6] = 0x00010101;
    struct fake *b2 = fn(1, 2, 0, 0x1b36, 0x0001, 0x060400, 1);         /* a bridge back to bus 0 */
    b2->cfg[6] = 0x00000001;
    fn(1, 3, 0, 0x8086, 0x100e, 0x020000, 0);                           /* a NIC behind the bridge */
    struct fake *ff = fn(0, 2, 0, 0x1234, 0xffff, 0, 0);                /* vendor answers, the rest reads all 0xff */
    for (int i = 2; i < 64; i++)
        ff->cfg[i] = 0xffffffffu;
    struct fake *edge = fn(0, 3, 0, 0x1af4, 0x1000, 0x020000, 0);
    bar(edge, 0, 0xfebf0000u, 0x1000, 0);                               /* 32-bit memory, 4 KiB */
    bar(edge, 1, 0xc040, 0x20, 1);                                      /* I/O, 32 ports */
    bar(edge, 2, 0xfe000000u, 0x4000, 0xc);                             /* 64-bit prefetchable, 16 KiB */
    bar(edge, 5, 0xfd000000u, 0x1000, 0x4);                             /* 64-bit in the last slot */
    edge->size[6] = 0x40000;
    edge->cfg[12] = 0xfe800000u;                                        /* ROM, disabled */
    edge->cfg[13] = 0x40;                                               /* capabilities: 0x40 -> 0x50 -> 0x40 (a loop) */
    edge->cfg[16] = 0x5001;
    edge->cfg[20] = 0x4005;
    struct fake *wrap = fn(0, 4, 0, 0x1af4, 0x1001, 0x010000, 0);
    bar(wrap, 0, 0xfffffffffff00000ull, 0x200000, 0x4);                 /* 2 MiB at the top: wraps */
    fn(0, 5, 0, 0x8086, 0x7000, 0x060100, 0)->cfg[3] |= 0x800000;       /* multi-function */
    fn(0, 5, 3, 0x8086, 0x7113, 0x068000, 0);
    fn(0, 6, 0, 0x1234, 0x5678, 0x000000, 0x7f);                        /* header type 0x7f */
    struct fake *again = fn(0, 7, 0, 0x1b36, 0x0001, 0x060400, 1);      /* a second bridge to bus 1: a loop */
    again->cfg[6] = 0x00010100;
    uint32_t before[NBUS][32][8][16];
    for (int b = 0; b < NBUS; b++)
        for (int d = 0; d < 32; d++)
            for (int f = 0; f < 8; f++)
                memcpy(before[b][d][f], bus[b][d][f].cfg, sizeof before[b][d][f]);

    static struct pci_fn fns[PCI_MAX_FNS];
    struct pci_cfg c = { rd, wr, NULL, report };
    int n = pci_enumerate(&c, fns, PCI_MAX_FNS);
    for (int i = 0; i < nreports; i++)
        printf("  reported: %s\n", reports[i]);

    CHECK(n == 10, "%d functions, want 10 (00:00.0 01.0 03.0 04.0 05.0 05.3 07.0, 01:00.0 02.0 03.0, no others)", n);
    CHECK(reported("0000:00:02.0", "all 0xff") && !find(fns, n, "0000:00:02.0"), "the all-0xff function is said and skipped");
    CHECK(reported("0000:00:06.0", "header type 0x7f") && !find(fns, n, "0000:00:06.0"), "an unknown header is said and skipped");
    CHECK(reported("0000:00:07.0", "a loop"), "the bridge loop is said");
    CHECK(reported("0000:01:00.0", "not above"), "a bridge to its own bus is said");
    CHECK(reported("0000:01:02.0", "not above"), "a bridge back to bus 0 is said");
    CHECK(reported("0000:00:03.0", "last slot"), "the 64-bit BAR in the last slot is said");
    CHECK(reported("0000:00:04.0", "wrap"), "the BAR that wraps is said");
    struct pci_fn *e = find(fns, n, "0000:00:03.0");
    CHECK(e && e->res[0].start == 0xfebf0000u && e->res[0].end == 0xfebf0fffu && e->res[0].flags == 0x40200,
          "BAR0 %llx-%llx %llx", e ? (unsigned long long)e->res[0].start : 0, e ? (unsigned long long)e->res[0].end : 0,
          e ? (unsigned long long)e->res[0].flags : 0);
    CHECK(e && e->res[1].start == 0xc040 && e->res[1].end == 0xc05f && e->res[1].flags == 0x40101, "BAR1 (I/O)");
    CHECK(e && e->res[2].start == 0xfe000000u && e->res[2].end == 0xfe003fffu && e->res[2].flags == 0x14220c,
          "BAR2 (64-bit prefetchable) flags %llx", e ? (unsigned long long)e->res[2].flags : 0);
    CHECK(e && e->res[3].flags == 0, "BAR3 is BAR2's upper half, no resource of its own");
    CHECK(e && e->res[5].flags == 0, "the last-slot 64-bit BAR has no resource");
    CHECK(e && e->res[6].start == 0xfe800000u && e->res[6].end == 0xfe83ffffu && e->res[6].flags == 0x46200,
          "ROM %llx flags %llx", e ? (unsigned long long)e->res[6].start : 0, e ? (unsigned long long)e->res[6].flags : 0);
    CHECK(e && e->ncaps >= 2 && e->ncaps <= 16 && e->caps[0] == 1 && e->caps[1] == 5,
          "capabilities read (a looping list stops)");
    CHECK(e && e->irq_line == 11 && e->irq_pin == 1, "irq line and pin");
    struct pci_fn *nic = find(fns, n, "0000:01:03.0");
    CHECK(nic && !strcmp(nic->path, "/sys/devices/pci0000:00/0000:00:01.0/0000:01:03.0"), "nested path %s",
          nic ? nic->path : "(none)");
    CHECK(find(fns, n, "0000:00:05.3") != NULL, "multi-function: function 3 found");
    bool same = true;
    for (int b = 0; b < NBUS; b++)
        for (int d = 0; d < 32; d++)
            for (int f = 0; f < 8; f++)
                same &= !memcmp(before[b][d][f], bus[b][d][f].cfg, sizeof before[b][d][f]);
    CHECK(same, "every BAR, ROM and command register is back as it was");
    CHECK(writes_to_absent == 0, "%d writes to absent functions", writes_to_absent);

    /* The kernel claims 00:03.0: it sized the registers itself (as trace_ivshmem.c does) and
     * publishes what they read back; the walk through claim_cfg must find the same resources and
     * send that function no write at all (its decoding stays on, its BARs never move). */
    static const uint8_t regs[PCI_CLAIM_REGS] = { 0x10, 0x14, 0x18, 0x1c, 0x20, 0x24, 0x30 };
    char text[160];
    int tl = snprintf(text, sizeof text, "0000:00:03.0");
    for (int i = 0; i < PCI_CLAIM_REGS; i++) {
        uint32_t orig = rd(NULL, 0, 3, 0, regs[i]);
        wr(NULL, 0, 3, 0, regs[i], regs[i] == 0x30 ? 0xfffff800u : 0xffffffffu);
        tl += snprintf(text + tl, sizeof text - (size_t)tl, " %08x", rd(NULL, 0, 3, 0, regs[i]));
        wr(NULL, 0, 3, 0, regs[i], orig);
    }
    snprintf(text + tl, sizeof text - (size_t)tl, "\n");
    struct pci_claim cl;
    CHECK(claim_parse(&cl, text) == 1 && cl.on && cl.dev == 3, "claim parsed: %s", text);
    CHECK(claim_parse(&cl, "\n") == 0 && !cl.on, "an empty line claims nothing");
    CHECK(claim_parse(&cl, "0000:00:03.0 1 2\n") == -1 && !cl.on, "a short line is malformed");
    CHECK(claim_parse(&cl, "0000:00:40.0 0 0 0 0 0 0 0\n") == -1, "device 0x40 is out of range");
    claim_parse(&cl, text);
    memset(writes_to, 0, sizeof writes_to);
    static struct pci_fn again_fns[PCI_MAX_FNS];
    struct pci_cfg cc = claim_cfg(&cl, &c);
    int n2 = pci_enumerate(&cc, again_fns, PCI_MAX_FNS);
    struct pci_fn *e2 = find(again_fns, n2, "0000:00:03.0");
    CHECK(n2 == n && e2 && e && !memcmp(e2->res, e->res, sizeof e->res), "the claimed function's resources are the same");
    CHECK(e2 && e && !memcmp(e2->cfg, e->cfg, sizeof e->cfg), "and so is its configuration snapshot");
    CHECK(writes_to[0][3][0] == 0 && cl.swallowed > 0, "%d writes reached the claimed function (%u kept)",
          writes_to[0][3][0], cl.swallowed);
    CHECK(writes_to[0][1][0] > 0, "the other functions are still sized (%d writes to 00:01.0)", writes_to[0][1][0]);
    printf("pci-enum-test: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
