/*
 * pci.h — the pci server's model of the bus (enum.c fills it, publish.c shows it in sysfs).
 *
 * enum.c is pure: it reaches configuration space only through struct pci_cfg, so the host
 * test (test/enum_test.c) runs it against a made-up bus with the bad input real firmware can
 * give (a bridge loop, a function that reads all 0xFF, a 64-bit BAR in the last slot).
 */
#ifndef PCI_PCI_H
#define PCI_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCI_MAX_FNS 128
#define PCI_NRES_DEV 13         /* Linux (CONFIG_PCI_IOV): 6 BARs, ROM, 6 IOV */
#define PCI_NRES_BRIDGE 17      /* ... and 4 bridge windows */
#define PCI_PATH_MAX 128

/* Linux's resource flags (include/linux/ioport.h), as /sys/.../resource prints them. */
#define IORES_IO 0x100u
#define IORES_MEM 0x200u
#define IORES_PREFETCH 0x2000u
#define IORES_READONLY 0x4000u
#define IORES_SIZEALIGN 0x40000u
#define IORES_MEM_64 0x100000u
#define IORES_ROM_ENABLE 0x1u

struct pci_res { uint64_t start, end, flags; };

struct pci_fn {
    uint8_t bus, dev, fn;
    uint8_t hdr;                /* header type without the multi-function bit */
    uint16_t vendor, device, svendor, sdevice;
    uint32_t class;             /* class << 16 | subclass << 8 | prog-if */
    uint8_t rev, irq_line, irq_pin;
    bool bridge;
    uint8_t secondary, subordinate;
    int parent;                 /* index of the bridge it sits behind, -1 on the root bus */
    int nres;
    struct pci_res res[PCI_NRES_BRIDGE];
    uint8_t caps[16];           /* capability ids, in list order */
    int ncaps;
    uint16_t cfg_size;          /* 256, or 4096 for PCIe functions when ECAM reaches them (ecam.c) */
    uint8_t cfg[4096];          /* configuration space as read after sizing (BARs restored) */
    char name[16];              /* "0000:00:1f.2" */
    char path[PCI_PATH_MAX];    /* "/sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.0" */
};

struct pci_cfg {
    uint32_t (*read32)(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off);
    void (*write32)(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off, uint32_t v);
    void *ctx;
    void (*report)(void *ctx, const char *msg);     /* what was skipped, and why */
};

/* uevent actions (lane_sysfs_publish.flags for UEVENT; trace.toml's uevent_action) */
#define PCI_UEVENT_ADD 0u
#define PCI_UEVENT_REMOVE 1u

/* publish.c */
void publish_driver(const struct pci_fn *f, const char *driver, const char *old);   /* bind / unbind */
void publish_driver_gone(const char *fn_name, const char *driver);
void publish_roots(void);
void publish_rescan(void);
void publish_changes(const struct pci_fn *old, int nold, const struct pci_fn *now, int nnow, int *added, int *removed);

/* bind.c */
void bind_init(void);
void bind_update(const struct pci_fn *fns, int n, bool rescan);
const char *bind_driver_of(const char *fn_name);
#define PCI_UEVENT_BIND 3u
#define PCI_UEVENT_UNBIND 4u

/* claim.c: a function the kernel drives (/sys/kernel/trace/pci) gets no configuration writes. */
#define PCI_CLAIM_REGS 7        /* BARs 0..5 (0x10..0x24) and the ROM (0x30) */
struct pci_claim {
    bool on;
    uint8_t bus, dev, fn;
    uint32_t mask[PCI_CLAIM_REGS];     /* what each register read back after the kernel's sizing write */
    uint32_t shadow[PCI_CLAIM_REGS], written;
    unsigned swallowed;                 /* writes kept from the hardware */
    const struct pci_cfg *hw;
};
/* Parses the attribute's text: 1 a function, 0 none (an empty line), -1 malformed. */
int claim_parse(struct pci_claim *c, const char *text);
/* A pci_cfg that passes everything to hw except writes to the claimed function. */
struct pci_cfg claim_cfg(struct pci_claim *c, const struct pci_cfg *hw);

/* ecam.c: PCIe's memory-mapped configuration space (ACPI MCFG, /sys/firmware/acpi/mcfg). */
bool ecam_init(int32_t system_cap);     /* false: no MCFG (QEMU's pc), ports only */
const struct pci_cfg *ecam_cfg(const struct pci_cfg *ports);   /* ECAM where it reaches, else ports */
void ecam_extend(struct pci_fn *fns, int n);   /* Linux's pci_cfg_space_size: 4096-byte config */

/* Walks bus 0 and every bus behind a bridge; fills fns (at most max). Returns the count. */
int pci_enumerate(const struct pci_cfg *c, struct pci_fn *fns, int max);

#endif
