import { IsString } from 'class-validator';
import { Server } from 'socket.io';
import { requestValidationPipe, RequestValidationError } from './request-validation';

class NoteDto {
  @IsString()
  title!: string;
}

/** What Nest hands the global pipe for a socket handler's parameters (numeric WsParamtype values). */
const WS = { SOCKET: 0, PAYLOAD: 3, ACK: 13 } as const;

describe('requestValidationPipe', () => {
  const pipe = requestValidationPipe();

  it('validates a body typed with a DTO class, naming the field', async () => {
    await expect(pipe.transform({ title: 'ok' }, { type: 'body', metatype: NoteDto })).resolves.toBeInstanceOf(NoteDto);
    const refused = pipe.transform({ title: 3 }, { type: 'body', metatype: NoteDto });
    await expect(refused).rejects.toBeInstanceOf(RequestValidationError);
    await expect(refused).rejects.toMatchObject({ problems: [{ field: 'title', problems: ['title must be a string'] }] });
  });

  it('refuses a body that is not an object, and unknown query fields', async () => {
    await expect(pipe.transform([1], { type: 'body', metatype: NoteDto })).rejects.toThrow('body must be a JSON object');
    await expect(pipe.transform({ title: 'x', extra: 1 }, { type: 'query', metatype: NoteDto })).rejects.toThrow('extra should not exist');
  });

  // The live feed was dead in the tsc build: tsc emits design:paramtypes
  // [Function, Object, Function] for subscribe(socket: Socket, payload: unknown,
  // ack?: Reply), and the pipe walked the socket as if it were a query DTO.
  it("passes a socket handler's parameters through untouched, whatever metatype the compiler emitted", async () => {
    const io = new Server();
    try {
      const socket = io.of('/live'); // cyclic and deep, like a real socket: adapter.nsp.adapter...
      for (const metatype of [Function, Object, undefined]) {
        await expect(pipe.transform(socket, { type: WS.SOCKET as never, metatype })).resolves.toBe(socket);
      }
      const payload = { timeline: 3, extra: { nested: true } }; // the gateway validates its payloads itself
      await expect(pipe.transform(payload, { type: WS.PAYLOAD as never, metatype: Object })).resolves.toBe(payload);
      const ack = () => undefined;
      await expect(pipe.transform(ack, { type: WS.ACK as never, metatype: Function })).resolves.toBe(ack);
    } finally {
      io.disconnectSockets(true); // never attached to an HTTP server: nothing else to close
    }
  });

  it('leaves what our own parameter decorators build alone', async () => {
    const context = { recordedBy: 'desk', nested: { deep: true } };
    await expect(pipe.transform(context, { type: 'custom', metatype: Function })).resolves.toBe(context);
  });
});
