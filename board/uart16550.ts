/**
 * A 16550-compatible UART (register shift 0), enough for OpenSBI-style polled output and Linux's
 * interrupt-driven 8250 driver: receive FIFO, THR-empty and receive interrupts with the 16550's
 * IIR priority and clearing rules, divisor latch, scratch register and loopback.
 *
 * Rules of use: transmission is instantaneous, so THR is always empty. Transmitted bytes are
 * buffered and handed to `onTransmit` when {@link Uart16550.flush} is called (the board does that
 * after every slice) or the buffer fills. Received bytes are pushed with {@link Uart16550.receive}.
 * The interrupt line is reported through `onInterrupt(level)` whenever it may have changed.
 *
 * @module
 */

import type { AccessSize, MmioDevice } from "@paravirt/mmu";

const LSR_DATA_READY = 0x01;
const LSR_THR_EMPTY = 0x20;
const LSR_TRANSMITTER_EMPTY = 0x40;
const IER_RX = 0x01;
const IER_THR = 0x02;
const IIR_NONE = 0x01;
const IIR_THR = 0x02;
const IIR_RX = 0x04;
const LCR_DLAB = 0x80;
const MCR_LOOPBACK = 0x10;
const RX_CAPACITY = 4096;

/** Saved register state of the UART. */
export interface UartState {
  /** Interrupt enable register. */
  ier: number;
  /** Line control register. */
  lcr: number;
  /** Modem control register. */
  mcr: number;
  /** Scratch register. */
  scr: number;
  /** FIFO control (last written). */
  fcr: number;
  /** Divisor latch. */
  divisor: number;
  /** Whether a THR-empty interrupt is pending. */
  thrPending: boolean;
  /** Received bytes not yet read. */
  rx: number[];
}

/** The UART device. */
export class Uart16550 implements MmioDevice {
  /** Called with transmitted bytes. */
  onTransmit: (bytes: Uint8Array) => void = () => {};
  /** Called with the interrupt line level. */
  onInterrupt: (level: boolean) => void = () => {};
  /** Called the first time software looks at the receive side (so input can be attached lazily). */
  onReceiveInterest: () => void = () => {};
  /** Bytes transmitted (a metric). */
  transmitted = 0;
  /** Bytes received (a metric). */
  received = 0;

  #ier = 0;
  #lcr = 0x03;
  #mcr = 0;
  #scr = 0;
  #fcr = 0;
  #divisor = 0;
  #thrPending = false;
  #rx: number[] = [];
  #tx = new Uint8Array(4096);
  #txLength = 0;
  #interest = false;

  /** Queues bytes arriving on the line (dropped beyond the FIFO's capacity, like real overruns). */
  receive(bytes: Uint8Array): void {
    for (const byte of bytes) {
      if (this.#rx.length < RX_CAPACITY) this.#rx.push(byte);
    }
    this.received += bytes.length;
    this.#update();
  }

  /** Number of received bytes waiting to be read. */
  get pendingInput(): number {
    return this.#rx.length;
  }

  /**
   * Takes one received byte on behalf of another reader of the same line (the SBI console's
   * getchar), or returns -1 when none is waiting. Counts as looking at the receive side.
   */
  takeInput(): number {
    this.#noticeReceive();
    if (this.#rx.length === 0) return -1;
    const byte = this.#rx.shift()!;
    this.#update();
    return byte;
  }

  /** Hands buffered output to `onTransmit`. */
  flush(): void {
    if (this.#txLength === 0) return;
    const bytes = this.#tx.slice(0, this.#txLength);
    this.#txLength = 0;
    this.onTransmit(bytes);
  }

  /** MMIO read. */
  read(offset: number, _size: AccessSize): number {
    const dlab = (this.#lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case 0:
        if (dlab) return this.#divisor & 0xff;
        this.#noticeReceive();
        {
          const byte = this.#rx.length > 0 ? this.#rx.shift()! : 0;
          this.#update();
          return byte;
        }
      case 1:
        return dlab ? (this.#divisor >>> 8) & 0xff : this.#ier;
      case 2: {
        const iir = this.#iir();
        if (iir === IIR_THR) this.#thrPending = false; // reading IIR clears THRE
        this.#update();
        return iir | ((this.#fcr & 1) !== 0 ? 0xc0 : 0);
      }
      case 3:
        return this.#lcr;
      case 4:
        return this.#mcr;
      case 5:
        this.#noticeReceive();
        return LSR_THR_EMPTY | LSR_TRANSMITTER_EMPTY | (this.#rx.length > 0 ? LSR_DATA_READY : 0);
      case 6:
        if ((this.#mcr & MCR_LOOPBACK) !== 0) {
          const m = this.#mcr;
          return ((m & 2) << 3) | ((m & 1) << 5) | ((m & 4) << 4) | ((m & 8) << 4);
        }
        return 0xb0; // DCD, DSR, CTS
      case 7:
        return this.#scr;
      default:
        return 0;
    }
  }

  /** MMIO write. */
  write(offset: number, _size: AccessSize, value: number): void {
    value &= 0xff;
    const dlab = (this.#lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case 0:
        if (dlab) {
          this.#divisor = (this.#divisor & 0xff00) | value;
          return;
        }
        if ((this.#mcr & MCR_LOOPBACK) !== 0) {
          if (this.#rx.length < RX_CAPACITY) this.#rx.push(value);
        } else {
          this.#tx[this.#txLength++] = value;
          this.transmitted++;
          if (this.#txLength === this.#tx.length) this.flush();
        }
        this.#thrPending = true;
        break;
      case 1:
        if (dlab) {
          this.#divisor = (this.#divisor & 0xff) | (value << 8);
          return;
        }
        if ((value & IER_RX) !== 0) this.#noticeReceive();
        // Enabling the THR-empty interrupt while THR is empty raises it at once, as on a 16550.
        if ((value & IER_THR) !== 0 && (this.#ier & IER_THR) === 0) this.#thrPending = true;
        this.#ier = value & 0x0f;
        break;
      case 2:
        this.#fcr = value;
        if ((value & 2) !== 0) this.#rx.length = 0;
        break;
      case 3:
        this.#lcr = value;
        break;
      case 4:
        this.#mcr = value & 0x1f;
        break;
      case 7:
        this.#scr = value;
        break;
    }
    this.#update();
  }

  /** Snapshot of the registers and pending input. */
  saveState(): UartState {
    return {
      ier: this.#ier,
      lcr: this.#lcr,
      mcr: this.#mcr,
      scr: this.#scr,
      fcr: this.#fcr,
      divisor: this.#divisor,
      thrPending: this.#thrPending,
      rx: [...this.#rx],
    };
  }

  /** Restores a snapshot taken by {@link saveState}. */
  restoreState(state: UartState): void {
    this.#ier = state.ier;
    this.#lcr = state.lcr;
    this.#mcr = state.mcr;
    this.#scr = state.scr;
    this.#fcr = state.fcr;
    this.#divisor = state.divisor;
    this.#thrPending = state.thrPending;
    this.#rx = [...state.rx];
    this.#update();
  }

  #iir(): number {
    if ((this.#ier & IER_RX) !== 0 && this.#rx.length > 0) return IIR_RX;
    if ((this.#ier & IER_THR) !== 0 && this.#thrPending) return IIR_THR;
    return IIR_NONE;
  }

  #update(): void {
    this.onInterrupt(this.#iir() !== IIR_NONE);
  }

  #noticeReceive(): void {
    if (this.#interest) return;
    this.#interest = true;
    this.onReceiveInterest();
  }
}
