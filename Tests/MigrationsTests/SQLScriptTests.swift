import Testing
@testable import Migrations

@Suite(.timeLimit(.minutes(5))) struct SQLScriptTests {
    @Test func splitsOnlyOnTopLevelSemicolons() {
        let script = """
        -- a comment; not a statement
        CREATE TABLE a (x text DEFAULT 'semi;colon', "odd;name" int);
        CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;
        DO $body$ BEGIN PERFORM 1; END $body$;
        /* block; /* nested; */ still comment; */ SELECT 'it''s; fine';
        SELECT $1::int
        """
        #expect(SQLScript.statements(in: script) == [
            "-- a comment; not a statement\nCREATE TABLE a (x text DEFAULT 'semi;colon', \"odd;name\" int)",
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$",
            "DO $body$ BEGIN PERFORM 1; END $body$",
            "/* block; /* nested; */ still comment; */ SELECT 'it''s; fine'",
            "SELECT $1::int",
        ])
    }

    @Test func dropsEmptyAndCommentOnlyStatements() {
        #expect(SQLScript.statements(in: ";;\n-- only a comment\n;  ") == [])
    }
}
