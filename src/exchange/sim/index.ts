export { SimVenue, type SimVenueOptions } from './sim-venue.ts';
export { DEFAULT_SIM_INSTRUMENTS, GENERIC_SIM_INSTRUMENT, instrumentOf, type SimInstrument } from './instruments.ts';
