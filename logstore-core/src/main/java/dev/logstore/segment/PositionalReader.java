package dev.logstore.segment;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Reads bytes of a file at a position, whatever channel serves them. */
@FunctionalInterface
public interface PositionalReader {

    /**
     * Reads until {@code dst} is full.
     *
     * @throws java.io.EOFException when the file ends first
     */
    void readFully(ByteBuffer dst, long position) throws IOException;
}
