import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';
import { fileURLToPath } from 'node:url';

// The bundle the portal API serves at /chat/ (portal-api/webClient.ts). The element's script keeps
// a fixed name (assets/coworking-chat.js) so host portals can link it; everything else is hashed.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/chat/',
  plugins: [preact()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
    rollupOptions: {
      input: { page: 'index.html', element: 'src/element.ts' },
      output: {
        entryFileNames: (chunk) => (chunk.name === 'element' ? 'assets/coworking-chat.js' : 'assets/[name]-[hash].js'),
      },
    },
  },
});
