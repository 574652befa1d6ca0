// The Concord mark: two overlapping speech bubbles (the same drawing as the PWA icon).

export function Logo({ size = 32 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 64 64" aria-hidden="true" focusable="false" class="logo">
      <rect width="64" height="64" rx="14" fill="#4a154b" />
      <path d="M14 18h26a6 6 0 0 1 6 6v12a6 6 0 0 1-6 6H26l-8 7v-7h-4a6 6 0 0 1-6-6V24a6 6 0 0 1 6-6z" fill="#ecb22e" />
      <path d="M30 30h20a6 6 0 0 1 6 6v9a6 6 0 0 1-6 6h-1v6l-7-6H30a6 6 0 0 1-6-6v-9a6 6 0 0 1 6-6z" fill="#36c5f0" opacity=".92" />
    </svg>
  );
}
