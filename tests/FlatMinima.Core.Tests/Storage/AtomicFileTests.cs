using FlatMinima.Storage;

namespace FlatMinima.Core.Tests.Storage;

public class AtomicFileTests
{
    [Fact]
    public void AFailedWriteKeepsTheOldFileAndLeavesNoTemporary()
    {
        string dir = Directory.CreateTempSubdirectory("fm-atomic").FullName;
        string path = Path.Combine(dir, "a.txt");
        AtomicFile.WriteAllText(path, "old");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s => { s.WriteByte(1); throw new InvalidOperationException("disk"); }));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(["a.txt"], Directory.GetFiles(dir).Select(Path.GetFileName));
        AtomicFile.WriteAllText(path, "new");
        Assert.Equal("new", File.ReadAllText(path));
        Directory.Delete(dir, true);
    }

    [Theory]
    [InlineData(".metrics.csv.1234.tmp", true)]
    [InlineData(".a.9.tmp", true)]
    [InlineData("metrics.csv.1234.tmp", false)]
    [InlineData(".metrics.csv.tmp", false)]
    [InlineData(".metrics.csv.12x.tmp", false)]
    [InlineData(".metrics.csv", false)]
    public void RecognisesItsTemporaryNames(string name, bool expected) => Assert.Equal(expected, AtomicFile.IsTemporary(name));

    [Fact]
    public void TheTemporaryNameIsRecognised() =>
        Assert.True(AtomicFile.IsTemporary(AtomicFile.TemporaryPath("/x/y/result.json")));
}
