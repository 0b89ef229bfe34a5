/** Docker's multiplexed stream frame: [stream, 0, 0, 0, size uint32 BE] + payload (1 stdout, 2 stderr, 3 error). */
export function frame(stream: 0 | 1 | 2 | 3, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(data.length, 4);
  return Buffer.concat([h, data]);
}
