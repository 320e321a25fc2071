namespace FlatMinima.Numerics;

/// <summary>Derived seeds: a SplitMix-style hash of a master seed and two stream numbers, so that every part of a
/// computation (a replica, a probe vector, a noise draw) gets its own reproducible stream.</summary>
public static class Seeds
{
    /// <summary>A non-negative seed derived from <paramref name="seed"/> and the stream numbers <paramref name="a"/>,
    /// <paramref name="b"/>.</summary>
    public static long Mix(long seed, long a, long b = 0)
    {
        ulong h = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)a * 0xC2B2AE3D27D4EB4FUL ^ (ulong)b * 0x165667B19E3779F9UL);
        h ^= h >> 31; h = unchecked(h * 0xBF58476D1CE4E5B9UL); h ^= h >> 29;
        return (long)(h & 0x7FFFFFFFFFFFFFFFUL);
    }
}
