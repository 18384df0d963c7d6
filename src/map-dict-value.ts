/** Returns a function that copies an object with `mapper` applied to its `key` field (a shallow copy). */
export function mapDictValue<K extends string, T, R>(key: K, mapper: (v: T) => R): <O extends Record<K, T>>(obj: O) => Omit<O, K> & Record<K, R> {
  return <O extends Record<K, T>>(obj: O) => ({ ...obj, [key]: mapper(obj[key]) }) as Omit<O, K> & Record<K, R>;
}
