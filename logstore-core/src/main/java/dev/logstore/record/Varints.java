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

    /** Reads a varint; throws IllegalArgumentException on a malformed one (more than 5 bytes). */
    static int readVarint(ByteBuffer buffer) {
        int value = 0;
        int shift = 0;
        while (true) {
            byte b = buffer.get();
            if (shift == 28 && (b & 0xf0) != 0) {
                throw new IllegalArgumentException("varint longer than 5 bytes");
            }
            value |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return (value >>> 1) ^ -(value & 1);
            }
            shift += 7;
        }
    }

    /** Reads a varlong; throws IllegalArgumentException on a malformed one (more than 10 bytes). */
    static long readVarlong(ByteBuffer buffer) {
        long value = 0L;
        int shift = 0;
        while (true) {
            byte b = buffer.get();
            if (shift == 63 && (b & 0xfe) != 0) {
                throw new IllegalArgumentException("varlong longer than 10 bytes");
            }
            value |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return (value >>> 1) ^ -(value & 1);
            }
            shift += 7;
        }
    }
}
