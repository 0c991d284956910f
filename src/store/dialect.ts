/** The two databases the store runs on with the same code. */
export type Dialect = 'sqlite' | 'postgres';
