/*
 * The SBI calls of the QEMU shim (see start.S): base, TIME (mtimecmp, forwarding MTIP to STIP),
 * IPI (to ourselves: SSIP), RFENCE (a local sfence.vma), SRST (the SiFive test device) and the
 * legacy console, set_timer and shutdown. One hart. Anything unexpected stops QEMU with a failure
 * code after printing what happened.
 */
#include <stdint.h>

#define UART ((volatile uint8_t *)0x10000000)
#define TEST_DEVICE ((volatile uint32_t *)0x00100000)
#define MTIMECMP ((volatile uint32_t *)0x02004000)
#define FW_DYNAMIC_MAGIC 0x4942534f
#define DEFAULT_KERNEL 0x80400000u

#define SBI_ERR_NOT_SUPPORTED (-2)
#define SBI_ERR_INVALID_PARAM (-3)

#define MIP_SSIP (1u << 1)
#define MIP_STIP (1u << 5)
#define MIE_MTIE (1u << 7)

#define csr_read(name) ({ uint32_t v_; __asm__ volatile("csrr %0, " #name : "=r"(v_)); v_; })
#define csr_write(name, v) __asm__ volatile("csrw " #name ", %0" ::"r"(v))
#define csr_set(name, v) __asm__ volatile("csrs " #name ", %0" ::"r"(v))
#define csr_clear(name, v) __asm__ volatile("csrc " #name ", %0" ::"r"(v))

struct fw_dynamic_info {
	uint32_t magic, version, next_addr, next_mode, options, boot_hart;
};

uint32_t next_address(const struct fw_dynamic_info *info)
{
	if (info && info->magic == FW_DYNAMIC_MAGIC)
		return info->next_addr;
	return DEFAULT_KERNEL;
}

static void putchar_uart(int c)
{
	while (!(UART[5] & 0x20))
		;
	UART[0] = (uint8_t)c;
}

static int getchar_uart(void)
{
	return (UART[5] & 0x01) ? UART[0] : -1;
}

static void print(const char *s)
{
	while (*s)
		putchar_uart(*s++);
}

static void print_hex(uint32_t v)
{
	print("0x");
	for (int i = 28; i >= 0; i -= 4)
		putchar_uart("0123456789abcdef"[(v >> i) & 15]);
}

/* Ends the run through the test device, first printing minstret (exact under -icount) so a
 * benchmark can compare QEMU's instruction count with ours. */
static void finish(uint32_t code)
{
	uint32_t hi, lo;

	do {
		hi = csr_read(minstreth);
		lo = csr_read(minstret);
	} while (hi != csr_read(minstreth));
	print("\nqemu-sbi: minstret=");
	print_hex(hi);
	print(":");
	print_hex(lo);
	print("\n");
	for (;;)
		*TEST_DEVICE = code;
}

static void set_timer(uint32_t lo, uint32_t hi)
{
	MTIMECMP[1] = 0xffffffff; /* no spurious match while the halves change */
	MTIMECMP[0] = lo;
	MTIMECMP[1] = hi;
	csr_clear(mip, MIP_STIP);
	csr_set(mie, MIE_MTIE);
}

static int probe(uint32_t eid)
{
	switch (eid) {
	case 0x10: case 0x54494d45: case 0x735049: case 0x52464e43: case 0x53525354:
		return 1;
	default:
		return eid <= 8;
	}
}

/* regs[i] is xi at the trap. */
static void sbi_call(uint32_t *regs)
{
	uint32_t eid = regs[17], fid = regs[16];
	uint32_t a0 = regs[10], a1 = regs[11];
	int32_t error = 0;
	uint32_t value = 0;

	switch (eid) {
	case 0x00: set_timer(a0, a1); regs[10] = 0; return;
	case 0x01: putchar_uart(a0); regs[10] = 0; return;
	case 0x02: regs[10] = getchar_uart(); return;
	case 0x03: csr_clear(mip, MIP_SSIP); regs[10] = 0; return;
	case 0x04: csr_set(mip, MIP_SSIP); regs[10] = 0; return;
	case 0x05: regs[10] = 0; return;
	case 0x06: case 0x07: __asm__ volatile("sfence.vma"); regs[10] = 0; return;
	case 0x08: finish(0x5555);
	case 0x10:
		switch (fid) {
		case 0: value = 0x02000000; break;
		case 1: value = 0x50565254; break;
		case 2: value = 1; break;
		case 3: value = probe(a0); break;
		case 4: case 5: case 6: value = 0; break;
		default: error = SBI_ERR_NOT_SUPPORTED;
		}
		break;
	case 0x54494d45:
		if (fid == 0) set_timer(a0, a1);
		else error = SBI_ERR_NOT_SUPPORTED;
		break;
	case 0x735049:
		if (fid == 0 && (a1 == 0xffffffff || (a0 & 1))) csr_set(mip, MIP_SSIP);
		else if (fid != 0) error = SBI_ERR_NOT_SUPPORTED;
		break;
	case 0x52464e43:
		if (fid <= 2) __asm__ volatile("sfence.vma");
		else error = SBI_ERR_NOT_SUPPORTED;
		break;
	case 0x53525354:
		if (fid != 0 || a0 > 2 || a1 > 1) { error = SBI_ERR_INVALID_PARAM; break; }
		finish(a0 != 0 ? 0x7777 : a1 == 0 ? 0x5555 : (1u << 16) | 0x3333);
	default:
		error = SBI_ERR_NOT_SUPPORTED;
	}
	regs[10] = (uint32_t)error;
	if (error == 0)
		regs[11] = value;
}

void handle_trap(uint32_t *regs)
{
	uint32_t cause = csr_read(mcause);

	if (cause == 0x80000007u) { /* machine timer: hand it to S-mode */
		csr_clear(mie, MIE_MTIE);
		csr_set(mip, MIP_STIP);
		return;
	}
	if (cause == 9) { /* ecall from S */
		sbi_call(regs);
		csr_write(mepc, csr_read(mepc) + 4);
		return;
	}
	print("\nqemu-sbi: unexpected trap mcause=");
	print_hex(cause);
	print(" mepc=");
	print_hex(csr_read(mepc));
	print(" mtval=");
	print_hex(csr_read(mtval));
	print("\n");
	finish((2u << 16) | 0x3333);
}
