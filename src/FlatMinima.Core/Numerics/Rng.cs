namespace FlatMinima.Numerics;

/// <summary>
/// Deterministic random source: xoshiro256** seeded through SplitMix64, with Gaussian deviates by the polar method.
/// The same seed gives the same stream on every machine and every .NET version, which <see cref="System.Random"/>
/// does not promise. Not thread-safe: give each thread (each Monte Carlo seed) its own instance.
/// </summary>
public sealed class Rng
{
    private ulong _s0, _s1, _s2, _s3;
    private double _spare;
    private bool _hasSpare;

    /// <summary>A generator whose whole state is derived from <paramref name="seed"/>.</summary>
    public Rng(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix64(ref x); _s1 = SplitMix64(ref x); _s2 = SplitMix64(ref x); _s3 = SplitMix64(ref x);
    }

    /// <summary>A generator for stream <paramref name="stream"/> of master seed <paramref name="seed"/>: used to give
    /// independent, reproducible streams to Monte Carlo repetitions and to the parts of one sample.</summary>
    public static Rng ForStream(long seed, long stream)
    {
        ulong x = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL) ^ unchecked((ulong)stream + 0xD1B54A32D192ED03UL);
        return new Rng(SplitMix64(ref x));
    }

    private static ulong SplitMix64(ref ulong x)
    {
        ulong z = unchecked(x += 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    /// <summary>Next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = unchecked(RotL(_s1 * 5, 7) * 9);
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3; _s2 ^= t; _s3 = RotL(_s3, 45);
        return result;
    }

    private static ulong RotL(ulong x, int k) => (x << k) | (x >> (64 - k));

    /// <summary>Uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / 9007199254740992.0);

    /// <summary>Standard normal deviate (Marsaglia polar method; only Sqrt and Log are used).</summary>
    public double NextGaussian()
    {
        if (_hasSpare) { _hasSpare = false; return _spare; }
        double u, v, s;
        do
        {
            u = 2 * NextDouble() - 1;
            v = 2 * NextDouble() - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        double f = Math.Sqrt(-2 * Math.Log(s) / s);
        _spare = v * f; _hasSpare = true;
        return u * f;
    }

    /// <summary>Fills <paramref name="dest"/> with standard normal deviates: the values of successive
    /// <see cref="NextGaussian"/> calls, with the generator state kept in registers (sampling X is the first cost of
    /// a large simulation).</summary>
    public void FillGaussian(Span<double> dest)
    {
        int i = 0, n = dest.Length;
        if (n == 0) return;
        if (_hasSpare) { _hasSpare = false; dest[i++] = _spare; }
        ulong s0 = _s0, s1 = _s1, s2 = _s2, s3 = _s3;
        while (i < n)
        {
            double u, v, s;
            do
            {
                u = 2 * ((Next(ref s0, ref s1, ref s2, ref s3) >> 11) * (1.0 / 9007199254740992.0)) - 1;
                v = 2 * ((Next(ref s0, ref s1, ref s2, ref s3) >> 11) * (1.0 / 9007199254740992.0)) - 1;
                s = u * u + v * v;
            } while (s >= 1 || s == 0);
            double f = Math.Sqrt(-2 * Math.Log(s) / s);
            dest[i++] = u * f;
            if (i < n) dest[i++] = v * f;
            else { _spare = v * f; _hasSpare = true; }
        }
        _s0 = s0; _s1 = s1; _s2 = s2; _s3 = s3;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static ulong Next(ref ulong s0, ref ulong s1, ref ulong s2, ref ulong s3)
    {
        ulong result = unchecked(RotL(s1 * 5, 7) * 9);
        ulong t = s1 << 17;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = RotL(s3, 45);
        return result;
    }

    /// <summary>+1 with probability <paramref name="pPlus"/>, −1 otherwise.</summary>
    public double NextSign(double pPlus) => NextDouble() < pPlus ? 1.0 : -1.0;
}
