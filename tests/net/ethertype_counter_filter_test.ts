import { filterConformance } from "@paravirt/drivers";
import { createFilter } from "./ethertype_counter_filter.ts";

filterConformance("ethertype-counter", () => createFilter({ drop: 0x88b6 }));
