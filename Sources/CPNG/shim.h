#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

/* libpng reports errors by longjmp, which Swift frames must never be crossed by. These helpers
   keep every libpng call inside a C frame that owns the setjmp, and turn an error into a
   status and a message. Contract: vit_png_begin reads the header and sets the transforms (16 →
   8 bits by dropping the low byte, palette → RGB, gray below 8 bits → 8 bits, interlacing
   handled; libpng's own limit of 10^6 pixels per side applies; an ancillary chunk libpng
   would hold in memory is refused above chunk_max bytes); the caller checks the size it
   reports before vit_png_read fills a buffer of height × rowbytes; vit_png_end frees everything and may be called after any failure. */

typedef struct {
    const unsigned char *data;
    size_t size;
    size_t offset;
    png_structp png;
    png_infop info;
    png_bytepp rows;
    jmp_buf jump;
    char message[200];
    /* Header, after the transforms. */
    png_uint_32 width, height;
    int channels, bit_depth, color_type;
    size_t rowbytes;
    /* The eXIf chunk (inside libpng's memory), from before or (vit_png_read_tail) after the
       image data. */
    const unsigned char *exif;
    png_uint_32 exif_size;
} vit_png;

static void vit_png_error(png_structp png, png_const_charp message) {
    vit_png *p = (vit_png *)png_get_error_ptr(png);
    strncpy(p->message, message, sizeof p->message - 1);
    p->message[sizeof p->message - 1] = 0;
    longjmp(p->jump, 1);
}

static void vit_png_warning(png_structp png, png_const_charp message) { (void)png; (void)message; }

static void vit_png_source(png_structp png, png_bytep out, size_t count) {
    vit_png *p = (vit_png *)png_get_io_ptr(png);
    if (count > p->size - p->offset) png_error(png, "the file ends inside a chunk (truncated)");
    memcpy(out, p->data + p->offset, count);
    p->offset += count;
}

/* Reads the header of the PNG in data[0..<size]. Returns 0 on success, else -1 with message. */
static int vit_png_begin(vit_png *p, const unsigned char *data, size_t size, size_t chunk_max) {
    memset(p, 0, sizeof *p);
    p->data = data;
    p->size = size;
    p->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, p, vit_png_error, vit_png_warning);
    if (!p->png) { strcpy(p->message, "libpng could not start"); return -1; }
    p->info = png_create_info_struct(p->png);
    if (!p->info) { strcpy(p->message, "libpng could not start"); return -1; }
    if (setjmp(p->jump)) return -1;
    png_set_read_fn(p->png, p, vit_png_source);
    png_set_chunk_malloc_max(p->png, chunk_max);
    png_read_info(p->png, p->info);
    p->bit_depth = png_get_bit_depth(p->png, p->info);
    p->color_type = png_get_color_type(p->png, p->info);
    if (p->bit_depth == 16) png_set_strip_16(p->png);
    if (p->color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(p->png);
    if (p->color_type == PNG_COLOR_TYPE_GRAY && p->bit_depth < 8) png_set_expand_gray_1_2_4_to_8(p->png);
    png_set_interlace_handling(p->png);
    png_read_update_info(p->png, p->info);
    p->width = png_get_image_width(p->png, p->info);
    p->height = png_get_image_height(p->png, p->info);
    p->channels = png_get_channels(p->png, p->info);
    p->rowbytes = png_get_rowbytes(p->png, p->info);
#ifdef PNG_eXIf_SUPPORTED
    png_bytep exif = NULL;
    png_uint_32 exif_size = 0;
    if (png_get_eXIf_1(p->png, p->info, &exif_size, &exif) != 0) {
        p->exif = exif;
        p->exif_size = exif_size;
    }
#endif
    return 0;
}

/* Decodes the image into out (height × rowbytes bytes). Returns 0 or -1 with message. */
static int vit_png_read(vit_png *p, unsigned char *out) {
    if (setjmp(p->jump)) return -1;
    p->rows = (png_bytepp)malloc(sizeof(png_bytep) * (size_t)p->height);
    if (!p->rows) { strcpy(p->message, "out of memory for row pointers"); return -1; }
    for (png_uint_32 y = 0; y < p->height; y++) p->rows[y] = out + (size_t)y * p->rowbytes;
    png_read_image(p->png, p->rows);
    return 0;
}

/* Reads the chunks after the image data, for an eXIf chunk there (the PNG specification
   allows it after IDAT; Pillow reads it). Returns 0, or -1 when the tail does not parse — not an
   error for the image, which is complete (Pillow ignores a broken tail too). */
static int vit_png_read_tail(vit_png *p) {
    if (setjmp(p->jump)) return -1;
    png_read_end(p->png, p->info);
#ifdef PNG_eXIf_SUPPORTED
    png_bytep exif = NULL;
    png_uint_32 exif_size = 0;
    if (!p->exif && png_get_eXIf_1(p->png, p->info, &exif_size, &exif) != 0) {
        p->exif = exif;
        p->exif_size = exif_size;
    }
#endif
    return 0;
}

static void vit_png_end(vit_png *p) {
    if (p->png) png_destroy_read_struct(&p->png, p->info ? &p->info : NULL, NULL);
    free(p->rows);
    p->rows = NULL;
    p->png = NULL;
    p->info = NULL;
}
