package dev.logstore.connect.config;

import java.util.HashMap;
import java.util.Map;

/** Admin client settings from a connector's: a bootstrap setting and the settings under a prefix. */
public final class AdminClients {

    private AdminClients() {
    }

    /** {@code prefixed} (the prefix taken off) with {@code bootstrap}; empty when no bootstrap servers are given. */
    public static Map<String, Object> config(String bootstrap, Map<String, Object> prefixed) {
        if (bootstrap == null || bootstrap.isBlank()) {
            return Map.of();
        }
        Map<String, Object> admin = new HashMap<>(prefixed);
        admin.put("bootstrap.servers", bootstrap);
        return admin;
    }
}
