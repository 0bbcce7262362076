package dev.logstore.record;

import java.nio.ByteBuffer;

/** Zig-zag base-128 variable-length integers, as used inside records. */
final class Varints {

    private Varints() {
    }

    static int sizeOfVarint(int value) {
        int v = (value << 1) ^ (value >> 31);
        int bytes = 1;
        while ((v & 0xffffff80) != 0) {
            bytes++;
            v >>>= 7;
        }
        return bytes;
    }

    static int sizeOfVarlong(long value) {
        long v = (value << 1) ^ (value >> 63);
        int bytes = 1;
        while ((v & 0xffffffffffffff80L) != 0L) {
            bytes++;
            v >>>= 7;
        }
        return bytes;
    }

    static void writeVarint(int value, ByteBuffer buffer) {
        int v = (value << 1) ^ (value >> 31);
        while ((v & 0xffffff80) != 0) {
            buffer.put((byte) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        buffer.put((byte) v);
    }

    static void writeVarlong(long value, ByteBuffer buffer) {
        long v = (value << 1) ^ (value >> 63);
        while ((v & 0xffffffffffffff80L) != 0L) {
            buffer.put((byte) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        buffer.put((byte) v);
    }

    /**
     * Reads varints at absolute positions of a buffer, never past a given limit, so decoding
     * leaves the buffer's own position alone. Malformed input (a varint too long, or one running
     * past the limit) gets an IllegalArgumentException.
     */
    static final class Reader {

        ByteBuffer bytes;
        int position;

        int readVarint(int limit) {
            int value = 0;
            for (int shift = 0; shift < 35; shift += 7) {
                byte b = next(limit);
                value |= (b & 0x7f) << shift;
                if ((b & 0x80) == 0) {
                    if (shift == 28 && (b & 0xf0) != 0) {
                        break;
                    }
                    return (value >>> 1) ^ -(value & 1);
                }
            }
            throw new IllegalArgumentException("varint longer than 5 bytes");
        }

        long readVarlong(int limit) {
            long value = 0L;
            for (int shift = 0; shift < 70; shift += 7) {
                byte b = next(limit);
                value |= (long) (b & 0x7f) << shift;
                if ((b & 0x80) == 0) {
                    if (shift == 63 && (b & 0xfe) != 0) {
                        break;
                    }
                    return (value >>> 1) ^ -(value & 1);
                }
            }
            throw new IllegalArgumentException("varlong longer than 10 bytes");
        }

        private byte next(int limit) {
            if (position >= limit) {
                throw new IllegalArgumentException("varint runs past the end of its record");
            }
            return bytes.get(position++);
        }
    }
}
