using System.Buffers.Binary;
using System.Text;

namespace FlatMinima.Torch.Runtime;

/// <summary>One symbol-version requirement of a shared library (an entry of <c>.gnu.version_r</c>).</summary>
/// <param name="File">The library that must provide it, e.g. <c>libstdc++.so.6</c>.</param>
/// <param name="Version">The version name, e.g. <c>GLIBCXX_3.4.32</c>.</param>
/// <param name="Index">Its version index (<c>vna_other</c>), as used by <c>.gnu.version</c>.</param>
/// <param name="Flags">Its <c>vna_flags</c> (2 = VER_FLG_WEAK).</param>
/// <param name="FlagsOffset">File offset of the 16-bit <c>vna_flags</c> field.</param>
/// <param name="Symbols">The dynamic symbols bound at this version.</param>
public sealed record VersionNeed(string File, string Version, int Index, int Flags, long FlagsOffset, IReadOnlyList<string> Symbols);

/// <summary>
/// A minimal reader and editor of the symbol-versioning sections of a 64-bit little-endian ELF shared library:
/// <c>.gnu.version_r</c> (requirements), <c>.gnu.version_d</c> (definitions), <c>.gnu.version</c> and <c>.dynsym</c>.
/// Used to mark one requirement weak (VER_FLG_WEAK), which glibc's loader then tolerates when the version is missing.
/// Any structural problem is an <see cref="InvalidDataException"/> naming the file and the offset.
/// </summary>
public sealed class ElfVersions
{
    private const uint ShtDynsym = 11, ShtVerneed = 0x6ffffffe, ShtVerdef = 0x6ffffffd, ShtVersym = 0x6fffffff;
    /// <summary>The VER_FLG_WEAK bit of <c>vna_flags</c>.</summary>
    public const int VerFlgWeak = 0x2;

    private readonly byte[] _b;
    private readonly string _path;

    /// <summary>Requirements, in file order.</summary>
    public IReadOnlyList<VersionNeed> Needs { get; }
    /// <summary>Version names this library defines (<c>.gnu.version_d</c>).</summary>
    public IReadOnlyList<string> Definitions { get; }

    private ElfVersions(byte[] bytes, string path)
    {
        _b = bytes; _path = path;
        (Needs, Definitions) = Parse();
    }

    /// <summary>Reads <paramref name="path"/>.</summary>
    public static ElfVersions Read(string path) => new(File.ReadAllBytes(path), path);

    /// <summary>Parses bytes (the path only names the file in errors).</summary>
    public static ElfVersions Parse(byte[] bytes, string path) => new(bytes, path);

    /// <summary>The file's bytes (with any edits applied).</summary>
    public byte[] Bytes => _b;

    /// <summary>Returns a copy of the file's bytes with the requirement <paramref name="need"/> marked weak.</summary>
    public byte[] WithWeak(VersionNeed need)
    {
        var copy = (byte[])_b.Clone();
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(copy.AsSpan((int)need.FlagsOffset));
        BinaryPrimitives.WriteUInt16LittleEndian(copy.AsSpan((int)need.FlagsOffset), (ushort)(flags | VerFlgWeak));
        return copy;
    }

    private InvalidDataException Bad(long offset, string what) =>
        new($"{_path}: not a valid 64-bit little-endian ELF shared library at offset {offset}: {what}.");

    private void Need(long offset, long length, string what)
    {
        if (offset < 0 || length < 0 || offset + length > _b.Length) throw Bad(offset, $"{what} lies beyond the end of the file ({_b.Length} bytes)");
    }

    private ushort U16(long o) { Need(o, 2, "field"); return BinaryPrimitives.ReadUInt16LittleEndian(_b.AsSpan((int)o)); }
    private uint U32(long o) { Need(o, 4, "field"); return BinaryPrimitives.ReadUInt32LittleEndian(_b.AsSpan((int)o)); }
    private long U64(long o) { Need(o, 8, "field"); return (long)BinaryPrimitives.ReadUInt64LittleEndian(_b.AsSpan((int)o)); }

    private string Str(long strtab, long strsize, uint index)
    {
        if (index >= strsize) throw Bad(strtab + index, "string index outside the string table");
        long start = strtab + index, end = start;
        while (end < strtab + strsize && _b[end] != 0) end++;
        return Encoding.ASCII.GetString(_b, (int)start, (int)(end - start));
    }

    private sealed record Section(uint Type, long Offset, long Size, uint Link, uint Info, long EntSize);

    private (List<VersionNeed>, List<string>) Parse()
    {
        Need(0, 64, "ELF header");
        if (_b[0] != 0x7f || _b[1] != (byte)'E' || _b[2] != (byte)'L' || _b[3] != (byte)'F') throw Bad(0, "no ELF magic");
        if (_b[4] != 2) throw Bad(4, "not ELFCLASS64");
        if (_b[5] != 1) throw Bad(5, "not little-endian");
        long shoff = U64(0x28);
        int shentsize = U16(0x3A), shnum = U16(0x3C);
        if (shentsize < 64) throw Bad(0x3A, $"section header size {shentsize}");
        Need(shoff, (long)shentsize * shnum, "section header table");
        var sections = new List<Section>();
        for (int i = 0; i < shnum; i++)
        {
            long h = shoff + (long)i * shentsize;
            var s = new Section(U32(h + 4), U64(h + 0x18), U64(h + 0x20), U32(h + 0x28), U32(h + 0x2C), U64(h + 0x38));
            if (s.Type != 8 /* NOBITS */) Need(s.Offset, s.Size, $"section {i}");
            sections.Add(s);
        }
        Section StrtabOf(Section s)
        {
            if (s.Link >= sections.Count) throw Bad(shoff, "section link out of range");
            return sections[(int)s.Link];
        }

        var defs = new List<string>();
        foreach (var vd in sections.Where(s => s.Type == ShtVerdef))
        {
            var str = StrtabOf(vd);
            long p = vd.Offset;
            for (uint k = 0; k < vd.Info; k++)
            {
                uint aux = U32(p + 12), next = U32(p + 16);
                defs.Add(Str(str.Offset, str.Size, U32(p + aux)));
                if (next == 0) break;
                p += next;
            }
        }

        // Symbols by version index.
        var byIndex = new Dictionary<int, List<string>>();
        var dynsym = sections.FirstOrDefault(s => s.Type == ShtDynsym);
        var versym = sections.FirstOrDefault(s => s.Type == ShtVersym);
        if (dynsym is not null && versym is not null)
        {
            var str = StrtabOf(dynsym);
            long n = dynsym.Size / 24;
            if (versym.Size / 2 < n) throw Bad(versym.Offset, ".gnu.version shorter than .dynsym");
            for (long i = 1; i < n; i++)
            {
                int idx = U16(versym.Offset + 2 * i) & 0x7fff;
                if (idx < 2) continue;
                string name = Str(str.Offset, str.Size, U32(dynsym.Offset + 24 * i));
                if (!byIndex.TryGetValue(idx, out var list)) byIndex[idx] = list = [];
                list.Add(name);
            }
        }

        var needs = new List<VersionNeed>();
        foreach (var vn in sections.Where(s => s.Type == ShtVerneed))
        {
            var str = StrtabOf(vn);
            long p = vn.Offset;
            for (uint k = 0; k < vn.Info; k++)
            {
                int cnt = U16(p + 2);
                string file = Str(str.Offset, str.Size, U32(p + 4));
                long a = p + U32(p + 8);
                for (int j = 0; j < cnt; j++)
                {
                    int flags = U16(a + 4), other = U16(a + 6);
                    string name = Str(str.Offset, str.Size, U32(a + 8));
                    needs.Add(new VersionNeed(file, name, other, flags, a + 4,
                        byIndex.TryGetValue(other, out var syms) ? syms : []));
                    uint an = U32(a + 12);
                    if (an == 0) break;
                    a += an;
                }
                uint next = U32(p + 12);
                if (next == 0) break;
                p += next;
            }
        }
        return (needs, defs);
    }
}
