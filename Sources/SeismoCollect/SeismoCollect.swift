// Collectors.
