/**
 * CSR addresses and bit fields from the RISC-V privileged specification (v1.12), for RV32.
 *
 * @module
 */

// Unprivileged counters (read-only, gated by mcounteren/scounteren below M-mode).
/** cycle */
export const CSR_CYCLE = 0xc00;
/** time */
export const CSR_TIME = 0xc01;
/** instret */
export const CSR_INSTRET = 0xc02;
/** cycleh */
export const CSR_CYCLEH = 0xc80;
/** timeh */
export const CSR_TIMEH = 0xc81;
/** instreth */
export const CSR_INSTRETH = 0xc82;

// Supervisor.
/** sstatus */
export const CSR_SSTATUS = 0x100;
/** sie */
export const CSR_SIE = 0x104;
/** stvec */
export const CSR_STVEC = 0x105;
/** scounteren */
export const CSR_SCOUNTEREN = 0x106;
/** senvcfg */
export const CSR_SENVCFG = 0x10a;
/** sscratch */
export const CSR_SSCRATCH = 0x140;
/** sepc */
export const CSR_SEPC = 0x141;
/** scause */
export const CSR_SCAUSE = 0x142;
/** stval */
export const CSR_STVAL = 0x143;
/** sip */
export const CSR_SIP = 0x144;
/** satp */
export const CSR_SATP = 0x180;

// Machine.
/** mvendorid */
export const CSR_MVENDORID = 0xf11;
/** marchid */
export const CSR_MARCHID = 0xf12;
/** mimpid */
export const CSR_MIMPID = 0xf13;
/** mhartid */
export const CSR_MHARTID = 0xf14;
/** mconfigptr */
export const CSR_MCONFIGPTR = 0xf15;
/** mstatus */
export const CSR_MSTATUS = 0x300;
/** misa */
export const CSR_MISA = 0x301;
/** medeleg */
export const CSR_MEDELEG = 0x302;
/** mideleg */
export const CSR_MIDELEG = 0x303;
/** mie */
export const CSR_MIE = 0x304;
/** mtvec */
export const CSR_MTVEC = 0x305;
/** mcounteren */
export const CSR_MCOUNTEREN = 0x306;
/** menvcfg */
export const CSR_MENVCFG = 0x30a;
/** mstatush */
export const CSR_MSTATUSH = 0x310;
/** menvcfgh */
export const CSR_MENVCFGH = 0x31a;
/** mcountinhibit */
export const CSR_MCOUNTINHIBIT = 0x320;
/** mscratch */
export const CSR_MSCRATCH = 0x340;
/** mepc */
export const CSR_MEPC = 0x341;
/** mcause */
export const CSR_MCAUSE = 0x342;
/** mtval */
export const CSR_MTVAL = 0x343;
/** mip */
export const CSR_MIP = 0x344;
/** pmpcfg0 (pmpcfg0..15 follow) */
export const CSR_PMPCFG0 = 0x3a0;
/** pmpaddr0 (pmpaddr0..63 follow) */
export const CSR_PMPADDR0 = 0x3b0;
/** mcycle */
export const CSR_MCYCLE = 0xb00;
/** minstret */
export const CSR_MINSTRET = 0xb02;
/** mcycleh */
export const CSR_MCYCLEH = 0xb80;
/** minstreth */
export const CSR_MINSTRETH = 0xb82;

// mstatus fields.
/** Supervisor interrupt enable. */
export const MSTATUS_SIE = 1 << 1;
/** Machine interrupt enable. */
export const MSTATUS_MIE = 1 << 3;
/** SIE before the last trap to S. */
export const MSTATUS_SPIE = 1 << 5;
/** MIE before the last trap to M. */
export const MSTATUS_MPIE = 1 << 7;
/** Privilege before the last trap to S (1 bit). */
export const MSTATUS_SPP = 1 << 8;
/** Shift of the 2-bit MPP field. */
export const MSTATUS_MPP_SHIFT = 11;
/** Privilege before the last trap to M (2 bits). */
export const MSTATUS_MPP = 3 << 11;
/** Modify privilege: loads and stores use MPP's translation. */
export const MSTATUS_MPRV = 1 << 17;
/** Permit supervisor access to user pages. */
export const MSTATUS_SUM = 1 << 18;
/** Make executable pages readable. */
export const MSTATUS_MXR = 1 << 19;
/** Trap virtual memory: satp and SFENCE.VMA are illegal in S-mode. */
export const MSTATUS_TVM = 1 << 20;
/** Timeout wait: WFI is illegal below M-mode. */
export const MSTATUS_TW = 1 << 21;
/** Trap SRET: SRET is illegal in S-mode. */
export const MSTATUS_TSR = 1 << 22;

// Interrupt bits (mip/mie) and causes.
/** Supervisor software interrupt. */
export const IRQ_S_SOFT = 1;
/** Machine software interrupt. */
export const IRQ_M_SOFT = 3;
/** Supervisor timer interrupt. */
export const IRQ_S_TIMER = 5;
/** Machine timer interrupt. */
export const IRQ_M_TIMER = 7;
/** Supervisor external interrupt. */
export const IRQ_S_EXT = 9;
/** Machine external interrupt. */
export const IRQ_M_EXT = 11;

// Exception causes.
/** Instruction address misaligned. */
export const CAUSE_MISALIGNED_FETCH = 0;
/** Instruction access fault. */
export const CAUSE_FETCH_ACCESS = 1;
/** Illegal instruction. */
export const CAUSE_ILLEGAL_INSTRUCTION = 2;
/** Breakpoint. */
export const CAUSE_BREAKPOINT = 3;
/** Load address misaligned. */
export const CAUSE_MISALIGNED_LOAD = 4;
/** Load access fault. */
export const CAUSE_LOAD_ACCESS = 5;
/** Store/AMO address misaligned. */
export const CAUSE_MISALIGNED_STORE = 6;
/** Store/AMO access fault. */
export const CAUSE_STORE_ACCESS = 7;
/** Environment call from U-mode. */
export const CAUSE_USER_ECALL = 8;
/** Environment call from S-mode. */
export const CAUSE_SUPERVISOR_ECALL = 9;
/** Environment call from M-mode. */
export const CAUSE_MACHINE_ECALL = 11;
/** Instruction page fault. */
export const CAUSE_FETCH_PAGE_FAULT = 12;
/** Load page fault. */
export const CAUSE_LOAD_PAGE_FAULT = 13;
/** Store/AMO page fault. */
export const CAUSE_STORE_PAGE_FAULT = 15;

/** Privilege level U. */
export const PRIV_U = 0;
/** Privilege level S. */
export const PRIV_S = 1;
/** Privilege level M. */
export const PRIV_M = 3;
