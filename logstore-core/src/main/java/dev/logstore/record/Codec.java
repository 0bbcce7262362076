package dev.logstore.record;

import java.util.Locale;

/**
 * How a batch's records are compressed. Every batch names its own codec (see {@link BatchFormat}),
 * so a store's codec can change over its life and readers take any mix.
 */
public enum Codec {
    /** Stored as they are. */
    NONE(0, 0, 0, 0),
    /**
     * LZ4 (one block per batch): the fastest to write and read, about half zstd's ratio on typical
     * JSON. It has no levels.
     */
    LZ4(1, 0, 0, 0),
    /** Zstandard (one frame per batch): the best ratio for the CPU; levels 1 (fastest) to 22, 3 by default. */
    ZSTD(2, 3, 1, 22);

    private final int id;
    private final int defaultLevel;
    private final int minLevel;
    private final int maxLevel;

    Codec(int id, int defaultLevel, int minLevel, int maxLevel) {
        this.id = id;
        this.defaultLevel = defaultLevel;
        this.minLevel = minLevel;
        this.maxLevel = maxLevel;
    }

    /** The codec's number in a batch's attributes. */
    public int id() {
        return id;
    }

    /** The level used when none is given; 0 for codecs without levels. */
    public int defaultLevel() {
        return defaultLevel;
    }

    /** True when {@code level} is one this codec takes (0 always means its default). */
    public boolean acceptsLevel(int level) {
        return level == 0 || (level >= minLevel && level <= maxLevel && maxLevel > 0);
    }

    /** The levels this codec takes, for error messages. */
    public String levels() {
        return maxLevel == 0 ? "none (leave the level unset)" : minLevel + " to " + maxLevel;
    }

    /** The name used in settings: {@code none}, {@code lz4}, {@code zstd}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The codec with this attribute number, or null when there is none. */
    public static Codec byId(int id) {
        for (Codec codec : values()) {
            if (codec.id == id) {
                return codec;
            }
        }
        return null;
    }

    /**
     * The codec named {@code name} (any case).
     *
     * @throws IllegalArgumentException naming the codecs there are
     */
    public static Codec parse(String name) {
        for (Codec codec : values()) {
            if (codec.configName().equalsIgnoreCase(name == null ? "" : name.trim())) {
                return codec;
            }
        }
        throw new IllegalArgumentException("unknown compression codec '" + name + "': use none, lz4 or zstd");
    }
}
