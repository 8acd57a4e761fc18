export type Json =
  | string
  | number
  | boolean
  | null
  | { [key: string]: Json | undefined }
  | Json[]

export type Database = {
  // Tells createClient<Database>() which PostgREST version the server follows
  // (instead of createClient<Database, { PostgrestVersion: 'XX' }>(URL, KEY))
  __InternalSupabase: {
    PostgrestVersion: "12"
  }
  other: {
    Tables: {
      notes: {
        Row: {
          aal: "aal1" | "aal2" | "aal3" | null
          body: string
          id: number
        }
        Insert: {
          aal?: "aal1" | "aal2" | "aal3" | null
          body: string
          id?: number
        }
        Update: {
          aal?: "aal1" | "aal2" | "aal3" | null
          body?: string
          id?: number
        }
        Relationships: []
      }
    }
    Views: {
      [_ in never]: never
    }
    Functions: {
      [_ in never]: never
    }
    Enums: {
      [_ in never]: never
    }
    CompositeTypes: {
      [_ in never]: never
    }
  }
  public: {
    Tables: {
      authors: {
        Row: {
          created_at: string
          email: string | null
          home: Database["public"]["CompositeTypes"]["address"] | null
          id: number
          mood: Database["public"]["Enums"]["mood"]
          name: string
          tags: string[]
        }
        Insert: {
          created_at?: string
          email?: string | null
          home?: Database["public"]["CompositeTypes"]["address"] | null
          id?: never
          mood?: Database["public"]["Enums"]["mood"]
          name: string
          tags?: string[]
        }
        Update: {
          created_at?: string
          email?: string | null
          home?: Database["public"]["CompositeTypes"]["address"] | null
          id?: never
          mood?: Database["public"]["Enums"]["mood"]
          name?: string
          tags?: string[]
        }
        Relationships: []
      }
      book_tags: {
        Row: {
          book_id: number
          tag_id: number
        }
        Insert: {
          book_id: number
          tag_id: number
        }
        Update: {
          book_id?: number
          tag_id?: number
        }
        Relationships: [
          {
            foreignKeyName: "book_tags_book_id_fkey"
            columns: ["book_id"]
            isOneToOne: false
            referencedRelation: "book_titles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "book_tags_book_id_fkey"
            columns: ["book_id"]
            isOneToOne: false
            referencedRelation: "books"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "book_tags_tag_id_fkey"
            columns: ["tag_id"]
            isOneToOne: false
            referencedRelation: "tags"
            referencedColumns: ["id"]
          },
        ]
      }
      books: {
        Row: {
          author_id: number
          id: number
          "in stock": boolean
          price: number | null
          published: string | null
          title: string
          title_upper: string | null
          label: string | null
        }
        Insert: {
          author_id: number
          id?: number
          "in stock"?: boolean
          price?: number | null
          published?: string | null
          title: string
          title_upper?: never
        }
        Update: {
          author_id?: number
          id?: number
          "in stock"?: boolean
          price?: number | null
          published?: string | null
          title?: string
          title_upper?: never
        }
        Relationships: [
          {
            foreignKeyName: "books_author_id_fkey"
            columns: ["author_id"]
            isOneToOne: false
            referencedRelation: "authors"
            referencedColumns: ["id"]
          },
        ]
      }
      profiles: {
        Row: {
          author_id: number
          bio: string | null
          settings: Json
        }
        Insert: {
          author_id: number
          bio?: string | null
          settings?: Json
        }
        Update: {
          author_id?: number
          bio?: string | null
          settings?: Json
        }
        Relationships: [
          {
            foreignKeyName: "profiles_author_id_fkey"
            columns: ["author_id"]
            isOneToOne: true
            referencedRelation: "authors"
            referencedColumns: ["id"]
          },
        ]
      }
      tags: {
        Row: {
          id: number
          label: string
        }
        Insert: {
          id?: number
          label: string
        }
        Update: {
          id?: number
          label?: string
        }
        Relationships: []
      }
    }
    Views: {
      book_titles: {
        Row: {
          author_id: number | null
          double_price: number | null
          id: number | null
          title: string | null
        }
        Insert: {
          author_id?: number | null
          double_price?: never
          id?: number | null
          title?: string | null
        }
        Update: {
          author_id?: number | null
          double_price?: never
          id?: number | null
          title?: string | null
        }
        Relationships: [
          {
            foreignKeyName: "books_author_id_fkey"
            columns: ["author_id"]
            isOneToOne: false
            referencedRelation: "authors"
            referencedColumns: ["id"]
          },
        ]
      }
    }
    Functions: {
      add:
        | { Args: { a: number; b?: number }; Returns: number }
        | { Args: { x: string; y: string }; Returns: string }
      author_stats: {
        Args: { min_books?: number }
        Returns: {
          author_id: number
          books: number
        }[]
      }
      books_by_mood: {
        Args: { m: Database["public"]["Enums"]["mood"] }
        Returns: {
          author_id: number
          id: number
          "in stock": boolean
          price: number | null
          published: string | null
          title: string
          title_upper: string | null
        }[]
        SetofOptions: {
          from: "*"
          to: "books"
          isOneToOne: false
          isSetofReturn: true
        }
      }
      label: {
        Args: { "": Database["public"]["Tables"]["books"]["Row"] }
        Returns: string
      }
      latest_book: {
        Args: { "": Database["public"]["Tables"]["authors"]["Row"] }
        Returns: {
          author_id: number
          id: number
          "in stock": boolean
          price: number | null
          published: string | null
          title: string
          title_upper: string | null
        }
        SetofOptions: {
          from: "authors"
          to: "books"
          isOneToOne: true
          isSetofReturn: true
        }
      }
      moods: { Args: never; Returns: Database["public"]["Enums"]["mood"][] }
      ping: { Args: never; Returns: undefined }
      where_is: {
        Args: { person: string }
        Returns: Database["public"]["CompositeTypes"]["address"]
        SetofOptions: {
          from: "*"
          to: "address"
          isOneToOne: true
          isSetofReturn: false
        }
      }
    }
    Enums: {
      mood: "sad" | "ok" | "happy"
    }
    CompositeTypes: {
      address: {
        street: string | null
        city: string | null
        zip: number | null
      }
    }
  }
}

type DatabaseWithoutInternals = Omit<Database, "__InternalSupabase">

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "public">]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
      Row: infer R
    }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] &
        DefaultSchema["Views"])
    ? (DefaultSchema["Tables"] &
        DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
        Row: infer R
      }
      ? R
      : never
    : never

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Insert: infer I
    }
    ? I
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Insert: infer I
      }
      ? I
      : never
    : never

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Update: infer U
    }
    ? U
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Update: infer U
      }
      ? U
      : never
    : never

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    | keyof DefaultSchema["Enums"]
    | { schema: keyof DatabaseWithoutInternals },
  EnumName extends DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never = never,
> = DefaultSchemaEnumNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
    ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
    : never

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never = never,
> = PublicCompositeTypeNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
    ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
    : never

export const Constants = {
  other: {
    Enums: {},
  },
  public: {
    Enums: {
      mood: ["sad", "ok", "happy"],
    },
  },
} as const
